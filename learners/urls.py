from django.urls import path

from learners.views import learner, verify

app_name = "learners"

urlpatterns = [
    path("me/", learner.dashboard, name="dashboard"),
    path("me/profile/", learner.profile, name="profile"),
    path("me/transcript/", learner.transcript, name="transcript"),
    path("me/transcript.csv", learner.transcript, {"format": "csv"}, name="transcript_csv"),
    path("me/transcript.pdf", learner.transcript, {"format": "pdf"}, name="transcript_pdf"),
    path("me/enrollments/<uuid:public_id>/", learner.claim, name="claim"),
    path("activities/<slug:slug>/enroll/", learner.enroll, name="enroll"),
    path("me/certificates/<str:verification_id>.pdf", learner.certificate_pdf, name="certificate_pdf"),
    path(
        "me/certificates/<str:verification_id>/resend/", learner.certificate_resend, name="certificate_resend"
    ),
    path("verify/", verify.verify, name="verify_lookup"),
    path("verify/<str:verification_id>/", verify.verify, name="verify"),
    path("verify/<str:verification_id>/v<int:number>/", verify.verify, name="verify_version"),
]
