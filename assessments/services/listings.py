"""What an imported listing's ``Completion Requirements`` field does to its activity's post-test and evaluation.

The listing states that they exist; staff write them in the portal. So the import only ever adds: an activity
whose listing names an evaluation and has none gets the starter evaluation, one naming a post-test and having
none gets a post-test with the listing's passing score and attempts and no questions yet (not offered to
learners until staff add questions, so it gates nothing meanwhile). What an activity has is never changed or
deleted by an import, nor are attempts touched, whatever the listing says; where the listing's post-test
differs from the activity's, the result carries a warning.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activities.listing import COMPLETION_REQUIREMENTS, FieldError, Listing, ListingError
from activities.models import Activity
from assessments.models import Assessment
from assessments.services.authoring import AuthoringError, add_starter_evaluation
from portal.models import User

POST_TEST, EVALUATION = Assessment.Kind.POST_TEST.value, Assessment.Kind.EVALUATION.value


@dataclass(frozen=True)
class Held:
    """A post-test or evaluation an activity has: its passing score and attempts (post-tests), and how many
    questions it has (none yet: not offered to learners)."""

    kind: str
    passing_score: int | None
    max_attempts: int | None
    questions: int


@dataclass(frozen=True)
class ActivityRequirements:
    """An activity's post-test and evaluation after an import, and what the import added or noticed."""

    post_test: Held | None
    evaluation: Held | None
    added: tuple[str, ...] = ()  # kinds the import added: "post_test", "evaluation"
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        """ "post-test 70 %, 3 attempts (5 questions); evaluation (8 questions)", or "no post-test; no
        evaluation": what the import's report says of the activity."""
        if self.post_test is None:
            post_test = _("no post-test")
        else:
            attempts = self.post_test.max_attempts
            post_test = _("post-test %(score)d %%, %(attempts)s (%(questions)s)") % {
                "score": self.post_test.passing_score or 0,
                "attempts": (
                    _("unlimited attempts")
                    if attempts is None
                    else ngettext("%d attempt", "%d attempts", attempts) % attempts
                ),
                "questions": _questions(self.post_test.questions),
            }
        if self.evaluation is None:
            evaluation = _("no evaluation")
        else:
            evaluation = _("evaluation (%(questions)s)") % {
                "questions": _questions(self.evaluation.questions)
            }
        return f"{post_test}; {evaluation}"


def _questions(count: int) -> str:
    if count == 0:
        return _("no questions yet")
    return ngettext("%d question", "%d questions", count) % count


def held_by(activity_ids: Sequence[int]) -> dict[int, dict[str, Held]]:
    """The post-tests and evaluations these activities have, by activity and kind, in one query."""
    found: dict[int, dict[str, Held]] = {pk: {} for pk in activity_ids}
    rows = (
        Assessment.objects.filter(activity_id__in=list(activity_ids), kind__in=[POST_TEST, EVALUATION])
        .annotate(question_count=Count("questions"))
        .values_list("activity_id", "kind", "passing_score", "max_attempts", "question_count")
    )
    for activity_id, kind, passing_score, max_attempts, questions in rows:
        assert activity_id is not None
        found[activity_id][kind] = Held(kind, passing_score, max_attempts, questions)
    return found


def add_listed_requirements(
    *, items: Sequence[tuple[Activity, Listing]], by: User | None
) -> dict[int, ActivityRequirements]:
    """Give each activity the post-test and evaluation its listing names and it lacks; return what each
    has afterwards, by activity id.

    Runs inside the import's transaction, after the activities are saved; a repeat adds nothing. Reads what
    the activities have in one query and writes the new post-tests in one insert; each starter evaluation is
    added by ``add_starter_evaluation`` (only on the first import that names it). What staff wrote is never
    changed: a listing whose post-test differs from the activity's gets a warning instead.
    """
    held = held_by([activity.pk for activity, _ in items])
    new_post_tests: list[Assessment] = []
    added: dict[int, list[str]] = {}
    for activity, listing in items:
        has = held[activity.pk]
        wanted = listing.post_test
        if wanted is not None and POST_TEST not in has:
            new_post_tests.append(
                Assessment(
                    provider_id=activity.provider_id,
                    activity=activity,
                    kind=POST_TEST,
                    title=_("Post-test"),
                    passing_score=wanted.passing_score,
                    max_attempts=wanted.max_attempts,
                    required_for=Assessment.RequiredFor.CREDIT,
                )
            )
            has[POST_TEST] = Held(POST_TEST, wanted.passing_score, wanted.max_attempts, 0)
            added.setdefault(activity.pk, []).append(POST_TEST)
        if listing.evaluation and EVALUATION not in has:
            try:
                evaluation = add_starter_evaluation(activity=activity, by=by)
            except AuthoringError as exc:  # one added in the admin at the same moment, say
                raise ListingError([FieldError(COMPLETION_REQUIREMENTS, exc.message)]) from None
            has[EVALUATION] = Held(EVALUATION, None, None, evaluation.questions.count())
            added.setdefault(activity.pk, []).append(EVALUATION)
    Assessment.objects.bulk_create(new_post_tests)
    return {
        activity.pk: ActivityRequirements(
            post_test=held[activity.pk].get(POST_TEST),
            evaluation=held[activity.pk].get(EVALUATION),
            added=tuple(added.get(activity.pk, ())),
            warnings=tuple(_differences(listing, held[activity.pk].get(POST_TEST))),
        )
        for activity, listing in items
    }


def _differences(listing: Listing, post_test: Held | None) -> list[str]:
    """Warnings where the listing's post-test is not the one the activity keeps."""
    wanted = listing.post_test
    if wanted is None or post_test is None:
        return []
    warnings = []
    if wanted.passing_score != post_test.passing_score:
        warnings.append(
            _(
                "%(field)s: the post-test keeps its passing score of %(kept)s %% (the listing says %(listed)s %%); "
                "change it in the portal"
            )
            % {
                "field": COMPLETION_REQUIREMENTS,
                "kept": post_test.passing_score,
                "listed": wanted.passing_score,
            }
        )
    if wanted.max_attempts != post_test.max_attempts:
        warnings.append(
            _(
                "%(field)s: the post-test keeps its attempts allowed, %(kept)s (the listing says %(listed)s); "
                "change them in the portal"
            )
            % {
                "field": COMPLETION_REQUIREMENTS,
                "kept": _attempts_text(post_test.max_attempts),
                "listed": _attempts_text(wanted.max_attempts),
            }
        )
    return warnings


def _attempts_text(attempts: int | None) -> str:
    return _("unlimited") if attempts is None else str(attempts)
