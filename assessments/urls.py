"""The learner's pre-test, post-test and evaluation, under their enrollment (``me/enrollments/<id>/``)."""

from django.urls import path, register_converter

from assessments import views


class KindConverter:
    """An assessment kind as a URL spells it: ``post-test`` for ``post_test``."""

    regex = "pre-test|post-test|evaluation"

    def to_python(self, value: str) -> str:
        return value.replace("-", "_")

    def to_url(self, value: str) -> str:
        return value.replace("_", "-")


register_converter(KindConverter, "assessment_kind")

app_name = "assessments"

urlpatterns = [
    path("me/enrollments/<uuid:public_id>/attempts/", views.attempts, name="attempts"),
    path("me/enrollments/<uuid:public_id>/<assessment_kind:kind>/", views.take, name="take"),
    path(
        "me/enrollments/<uuid:public_id>/<assessment_kind:kind>/attempts/<int:number>/",
        views.result,
        name="result",
    ),
]
