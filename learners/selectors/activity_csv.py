"""One activity's enrollments and completions as a CSV for its provider."""

from datetime import datetime

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from activities import vocabulary
from activities.models import Activity
from learners.models import Enrollment, OutboxMessage
from portal.lib.csv import write_rows


def activity_csv(activity: Activity) -> str:
    """Every enrollment in ``activity``: who, their profession, when they enrolled and completed, each
    credit claimed (a column per designated credit type), MOC, the certificate and its delivery."""
    designations = list(activity.credits.select_related("credit_type").order_by("credit_type__position"))
    latest_delivery = (
        OutboxMessage.objects.filter(version__certificate__enrollment=OuterRef("pk"))
        .order_by("-created")
        .values("state")[:1]
    )
    enrollments = (
        Enrollment.objects.filter(activity=activity)
        .select_related("learner__profile", "claim", "certificate")
        .prefetch_related("claim__credits", "claim__moc")
        .annotate(latest_delivery=Subquery(latest_delivery))
        .order_by("learner__last_name", "learner__first_name", "pk")
    )
    professions = dict(vocabulary.PROFESSION_CHOICES)
    deliveries = dict(OutboxMessage.State.choices)
    header = [
        _("Last name"), _("First name"), _("Email"), _("Profession"), _("Enrolled at"), _("Status"),
        _("Completed at"), *[d.credit_type.label for d in designations], _("MOC"), _("Certificate"),
        _("Certificate status"), _("Delivery"),
    ]  # fmt: skip

    def when(moment: datetime | None) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    rows = []
    for enrollment in enrollments:
        learner = enrollment.learner
        profile = getattr(learner, "profile", None)
        claim = getattr(enrollment, "claim", None)
        certificate = getattr(enrollment, "certificate", None)
        profession = claim.profession if claim else (profile.profession if profile else "")
        claimed = {c.credit_type_id: c.amount for c in claim.credits.all()} if claim else {}
        moc = (
            "; ".join(
                f"{vocabulary.board_abbreviation(m.board)} "
                f"{vocabulary.moc_credit_type_label(m.credit_type)} {m.points:.2f}"
                for m in claim.moc.all()
            )
            if claim
            else ""
        )
        if certificate is None:
            cert_status = delivery = ""
        else:
            cert_status = _("Revoked") if certificate.is_revoked else _("Valid")
            delivery = str(deliveries.get(enrollment.latest_delivery, _("No email yet")))
        rows.append(
            [
                learner.last_name,
                learner.first_name,
                learner.email,
                professions.get(profession, profession),
                when(enrollment.created),
                enrollment.get_status_display(),
                when(enrollment.completed_at),
                *[
                    f"{claimed[d.credit_type_id]:.2f}" if d.credit_type_id in claimed else ""
                    for d in designations
                ],
                moc,
                certificate.code if certificate else "",
                cert_status,
                delivery,
            ]
        )
    return write_rows(rows, header=header)
