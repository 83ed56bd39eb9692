from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import vocabulary
from learners.models import BoardId, LearnerProfile, StateLicense
from learners.services.reporting import ledger
from portal import audit
from portal.models import User

_D = LearnerProfile.Degree
PHYSICIAN_DEGREES = frozenset({_D.MD, _D.DO, _D.MBBS, _D.MBCHB, _D.BMBS, _D.MBBCH, _D.MBBCHIR, _D.MBBCHBAO})


class ProfileError(Exception):
    """Why a profile cannot be saved, in words fit to show; ``field`` names the detail to correct."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_degree(*, profession: str, degree: str) -> None:
    """Physicians hold an MD, a DO or an equivalent physician degree (MBBS, MBChB and the like), and only
    physicians do.

    Raises ProfileError naming ``degree`` for a physician without one, ``profession`` for a holder of one
    who is not a physician. The profile form calls this to show the error beside the field.
    """
    if profession == vocabulary.Profession.PHYSICIAN and degree not in PHYSICIAN_DEGREES:
        raise ProfileError(
            _("Physicians: choose your physician degree (MD, DO, MBBS, MBChB or an equivalent one listed)."),
            field="degree",
        )
    if profession != vocabulary.Profession.PHYSICIAN and degree in PHYSICIAN_DEGREES:
        raise ProfileError(
            _("%(degree)s is a physician degree: choose Physician as the profession.") % {"degree": degree},
            field="profession",
        )


def create_profile(*, user: User, first_name: str, last_name: str, profession: str) -> LearnerProfile:
    """A new learner's name (as certificates print it) and profession, from sign-up."""
    with transaction.atomic():
        user.first_name, user.last_name = first_name.strip(), last_name.strip()
        user.save(update_fields=["first_name", "last_name"])
        profile = LearnerProfile.objects.create(user=user, profession=profession)
        audit.record(actor=user, action=audit.AuditAction.PROFILE_CREATED, obj=profile)
    return profile


def update_profile(
    *,
    profile: LearnerProfile,
    first_name: str,
    last_name: str,
    fields: dict[str, Any],
    consent: bool,
    licenses: list[tuple[str, str]],
    board_ids: list[tuple[str, str]],
) -> LearnerProfile:
    """Replace the profile's details. Giving consent records when; withdrawing it clears that date.

    ``licenses`` are ``(state, number)`` and ``board_ids`` ``(board, id)`` pairs, one per state or board.
    When ``fields`` give the profession or the degree, the two must agree (``check_degree``: raises
    ProfileError, and nothing is saved); a profile from sign-up has no degree until its first update.
    """
    if "profession" in fields or "degree" in fields:
        check_degree(
            profession=fields.get("profession", profile.profession),
            degree=fields.get("degree", profile.degree),
        )
    with transaction.atomic():
        user = profile.user
        changed: dict[str, str | list[str]] = {}
        for name, value in (("first_name", first_name.strip()), ("last_name", last_name.strip())):
            if getattr(user, name) != value:
                changed[name] = value
                setattr(user, name, value)
        user.save(update_fields=["first_name", "last_name"])
        for name, value in fields.items():
            if getattr(profile, name) != value:
                changed[name] = str(value)
                setattr(profile, name, value)
        if consent and profile.reporting_consent_at is None:
            profile.reporting_consent_at = timezone.now()
            changed["consent"] = "given"
        elif not consent and profile.reporting_consent_at is not None:
            profile.reporting_consent_at = None
            changed["consent"] = "withdrawn"
        profile.save()
        if sorted(licenses) != sorted(profile.licenses.values_list("state", "number")):
            profile.licenses.all().delete()
            StateLicense.objects.bulk_create(
                StateLicense(profile=profile, state=s, number=n) for s, n in licenses
            )
            changed["licenses"] = [s for s, _ in licenses]
        if sorted(board_ids) != sorted(profile.board_ids.values_list("board", "board_id")):
            profile.board_ids.all().delete()
            BoardId.objects.bulk_create(BoardId(profile=profile, board=b, board_id=i) for b, i in board_ids)
            changed["board_ids"] = [b for b, _ in board_ids]
        if changed:
            audit.record(
                actor=user,
                action=audit.AuditAction.PROFILE_CHANGED,
                obj=profile,
                data={"changed": sorted(changed)},
            )
            ledger.refresh_learner(learner=user)
    return profile
