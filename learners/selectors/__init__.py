"""Reads for the learners app, one module per area: ``learner`` (a learner's own records),
``dashboards`` (providers' yearly figures) and ``activity_csv`` (one activity's enrollments)."""
