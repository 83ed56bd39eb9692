"""The outcomes of an activity's assessments, and a provider's activities by measured outcome."""
