"""The outcomes report's tables as CSV cells: the same rows, figures and labels the page shows.

Each function returns a header row and then the data rows; percentages are written to one decimal as the
page shows them, with an empty cell where the page shows "—" (nothing to divide by).
"""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from assessments.selectors.outcomes import Outcomes
from assessments.selectors.outcomes_free_text import FreeTextAnswer

TABLES = ("funnel", "scores", "questions", "knowledge", "evaluation", "free_text")


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def funnel_rows(outcomes: Outcomes) -> list[list[str]]:
    rows = [[_("Step"), _("Learners"), _("Share of enrolled (%)")]]
    rows += [[step.label, str(step.learners), _cell(step.share)] for step in outcomes.funnel.steps]
    rates = outcomes.pass_rates
    if rates is not None:
        rows.append([_("Attempted the post-test"), str(rates.attempted), ""])
        rows.append([_("Post-test pass rate (%)"), _cell(rates.pass_rate), ""])
        rows.append([_("First-attempt pass rate (%)"), _cell(rates.first_attempt_rate), ""])
        rows.append([_("Post-test attempts"), str(rates.attempts), ""])
    return rows


def score_rows(outcomes: Outcomes) -> list[list[str]]:
    rows = [[_("Best score (%)"), _("Learners")]]
    rows += [[score_bin.label, str(score_bin.learners)] for score_bin in outcomes.scores]
    return rows


def question_rows(outcomes: Outcomes) -> list[list[str]]:
    rows = [
        [
            _("Question"),
            _("Text"),
            _("Answers"),
            _("Correct"),
            _("Share correct (%)"),
            _("Choice"),
            _("Correct choice"),
            _("Picked"),
            _("Share picked (%)"),
        ]
    ]
    for question in outcomes.questions:
        head = [
            str(question.number),
            question.text,
            str(question.answered),
            str(question.correct),
            _cell(question.share_correct),
        ]
        for choice in question.choices:
            text = choice.text + (" " + _("(removed)") if choice.removed else "")
            rows.append(
                [
                    *head,
                    text,
                    _("Yes") if choice.correct else _("No"),
                    str(choice.picked),
                    _cell(choice.share),
                ]
            )
    return rows


def knowledge_rows(outcomes: Outcomes) -> list[list[str]]:
    rows = [
        [
            _("Question"),
            _("Text"),
            _("Pre-test answers"),
            _("Pre-test correct (%)"),
            _("Post-test answers"),
            _("Post-test correct (%)"),
            _("Change (points)"),
        ]
    ]
    knowledge = outcomes.knowledge
    if knowledge is None:
        return rows
    rows.append(
        [
            _("All questions"),
            _("Mean score of %(n)d matched learners") % {"n": knowledge.matched},
            str(knowledge.matched),
            _cell(knowledge.pre_mean),
            str(knowledge.matched),
            _cell(knowledge.post_mean),
            _cell(knowledge.change),
        ]
    )
    for question in knowledge.questions:
        rows.append(
            [
                str(question.number),
                question.text,
                str(question.pre_answered),
                _cell(question.pre_share),
                str(question.post_answered),
                _cell(question.post_share),
                _cell(question.change),
            ]
        )
    return rows


def evaluation_rows(outcomes: Outcomes) -> list[list[str]]:
    rows = [[_("Item"), _("Text"), _("Kind"), _("Answers"), _("Answer"), _("Count"), _("Mean")]]
    for item in outcomes.evaluation_items:
        head = [str(item.number), item.text, item.kind, str(item.answered)]
        if item.is_likert:
            mean = _cell(item.mean)
            rows += [[*head, f"{value} · {label}", str(count), mean] for value, label, count in item.likert]
        elif item.choices:
            rows += [[*head, choice.text, str(choice.picked), ""] for choice in item.choices]
        else:
            rows.append([*head, _("free-text answers"), str(item.answered), ""])
    return rows


def free_text_rows(answers: Iterable[FreeTextAnswer]) -> list[list[str]]:
    rows = [[_("Submitted at"), _("Item"), _("Question"), _("Answer"), _("Attempt")]]
    rows += [
        [a.submitted_at.isoformat(), str(a.question_number), a.question, a.text, str(a.attempt_id)]
        for a in answers
    ]
    return rows
