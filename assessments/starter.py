"""The starter evaluation the portal ships with, as data: every provider can copy it onto an activity (or into
its library) and edit the copy. It is not a database row, so no provider owns it and none can change it.

Its items are the ones accredited providers are asked about at audit:
- whether the objectives were met and the activity was relevant to the learner's practice, and whether
  they intend to change their practice, describing the change, and what stands in its way: ACCME asks the
  provider to analyse change in learners (competence, performance, patient outcomes), including "changes it
  expects learners to make" (Analyzes Change, formerly Criterion 11,
  https://accme.org/accreditation-rules/accreditation-criteria/analyzes-change; "asking your learner to
  provide examples of changes they made or plan to make", https://accme.org/news/analyzing-learner-change-compliance-check/);
- an evaluation mechanism at all: one of the AMA's core requirements for AMA PRA Category 1 Credit™ (AMA
  CME provider FAQ, http://www.ama-assn.org/ama/pub/category/16354.html);
- whether the content was free of commercial bias, with a description when it was not: the Standards for
  Integrity and Independence in Accredited Continuing Education protect learners "from promotion,
  marketing, and commercial bias" (ACCME, Standards for Integrity and Independence, Eligibility;
  http://accme.org/standards), and providers act on the reports of bias learners give in the evaluation.

Keys are fixed, so the same item is the same question on every activity that copied it, and the outcomes
report can put activities' answers side by side.
"""

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class StarterQuestion:
    key: str
    kind: str
    text: str | Promise
    required: bool = True
    explanation: str | Promise = ""


@dataclass(frozen=True)
class StarterAssessment:
    kind: str
    title: str | Promise
    instructions: str | Promise
    required_for: str = "credit"
    questions: tuple[StarterQuestion, ...] = field(default_factory=tuple)


LIKERT = "likert"
FREE_TEXT = "free_text"

STARTER_EVALUATION = StarterAssessment(
    kind="evaluation",
    title=_("Activity evaluation"),
    instructions=_(
        "Tell us how this activity served you and what you will do with it. Rate each statement from 1 "
        "(strongly disagree) to 5 (strongly agree). Your answers help us plan the next activities."
    ),
    questions=(
        StarterQuestion(
            "5a1c0e2e-0001-4e00-8000-000000000001",
            LIKERT,
            _("The activity met its stated learning objectives."),
        ),
        StarterQuestion(
            "5a1c0e2e-0002-4e00-8000-000000000002",
            LIKERT,
            _("The content was relevant to my practice."),
        ),
        StarterQuestion(
            "5a1c0e2e-0003-4e00-8000-000000000003",
            LIKERT,
            _("The content was balanced and free of commercial bias."),
        ),
        StarterQuestion(
            "5a1c0e2e-0004-4e00-8000-000000000004",
            FREE_TEXT,
            _("If you perceived commercial bias, describe it (which content, and how it was biased)."),
            required=False,
        ),
        StarterQuestion(
            "5a1c0e2e-0005-4e00-8000-000000000005",
            LIKERT,
            _("I intend to change my practice as a result of this activity."),
        ),
        StarterQuestion(
            "5a1c0e2e-0006-4e00-8000-000000000006",
            FREE_TEXT,
            _("What will you change in your practice? Describe the change you intend to make."),
            required=False,
        ),
        StarterQuestion(
            "5a1c0e2e-0007-4e00-8000-000000000007",
            FREE_TEXT,
            _("What barriers, if any, could keep you from making this change?"),
            required=False,
        ),
        StarterQuestion(
            "5a1c0e2e-0008-4e00-8000-000000000008",
            LIKERT,
            _("Overall, the activity was of high quality."),
        ),
    ),
)
