"""Reporting to the registries, by area: ``ledger`` (what each claim owes and how far it has got),
``exports`` (the files that carry it) and ``digest`` (the staff's daily deadline email).

Code in the portal imports the module it needs. The public names are also importable from the package
(``from learners.services import reporting``; ``reporting.export_entries``), as ``learners.models`` re-exports
its models, for callers written before the split.
"""

from learners.services.reporting.digest import send_deadline_digests
from learners.services.reporting.exports import (
    ACCREDITOR_COLUMNS,
    CPE_MONITOR_COLUMNS,
    certified_names,
    export_entries,
    export_rows,
)
from learners.services.reporting.ledger import (
    DAYS_TO_REPORT,
    DUE_SOON_DAYS,
    OPEN,
    STATE_BOARDS,
    ReportingError,
    ReturnedFileResult,
    apply_returned_file,
    missing_for,
    record_claim,
    refresh_learner,
    requeue_entries,
    settle_entries,
    unreported,
    withdraw_for_revocation,
)

__all__ = [
    "ACCREDITOR_COLUMNS",
    "CPE_MONITOR_COLUMNS",
    "DAYS_TO_REPORT",
    "DUE_SOON_DAYS",
    "OPEN",
    "STATE_BOARDS",
    "ReportingError",
    "ReturnedFileResult",
    "apply_returned_file",
    "certified_names",
    "export_entries",
    "export_rows",
    "missing_for",
    "record_claim",
    "refresh_learner",
    "requeue_entries",
    "send_deadline_digests",
    "settle_entries",
    "unreported",
    "withdraw_for_revocation",
]
