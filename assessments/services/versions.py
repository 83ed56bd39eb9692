"""The frozen versions learners take: an assessment's questions, choices and correct answers as one JSON
document, stored once per change."""

import hashlib
import json

from django.db import transaction

from assessments.models import Assessment, AssessmentVersion, Question


def content_of(assessment: Assessment) -> dict:
    """The assessment as a version records it, read in two queries."""
    questions = list(assessment.questions.prefetch_related("choices").order_by("position", "pk"))
    return {
        "title": str(assessment.title),
        "kind": assessment.kind,
        "instructions": str(assessment.instructions),
        "passing_score": assessment.passing_score,
        "shuffle": assessment.shuffle_questions,
        "questions": [
            {
                "id": question.pk,
                "key": str(question.key),
                "kind": question.kind,
                "text": question.text,
                "explanation": question.explanation,
                "required": question.required,
                "choices": [
                    {"id": choice.pk, "text": choice.text, "correct": choice.is_correct}
                    for choice in question.choices.all()
                ]
                if question.kind in Question.CHOICE_KINDS
                else [],
            }
            for question in questions
        ],
    }


def _digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def current_version(assessment: Assessment) -> AssessmentVersion:
    """The version learners take now: the latest, or a new one when the questions changed since.

    The assessment row is locked while a new version is numbered, so concurrent first views make one."""
    content = content_of(assessment)
    digest = _digest(content)
    latest = assessment.versions.order_by("-number").first()
    if latest is not None and latest.digest == digest:
        return latest
    with transaction.atomic():
        # Ordered by pk alone: the default ordering joins the (nullable) activity, which FOR UPDATE refuses.
        Assessment.objects.select_for_update().filter(pk=assessment.pk).order_by("pk").first()
        latest = assessment.versions.order_by("-number").first()
        if latest is not None and latest.digest == digest:
            return latest
        return AssessmentVersion.objects.create(
            assessment=assessment,
            number=(latest.number + 1) if latest else 1,
            content=content,
            digest=digest,
        )
