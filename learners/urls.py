from django.urls import path

from learners import views

app_name = "learners"

urlpatterns = [
    path("me/", views.dashboard, name="dashboard"),
    path("me/profile/", views.profile, name="profile"),
    path("me/transcript/", views.transcript, name="transcript"),
    path("me/transcript.csv", views.transcript, {"format": "csv"}, name="transcript_csv"),
    path("me/transcript.pdf", views.transcript, {"format": "pdf"}, name="transcript_pdf"),
    path("me/enrollments/<uuid:public_id>/", views.claim, name="claim"),
    path("activities/<slug:slug>/enroll/", views.enroll, name="enroll"),
    path("me/certificates/<str:verification_id>.pdf", views.certificate_pdf, name="certificate_pdf"),
    path(
        "me/certificates/<str:verification_id>/resend/", views.certificate_resend, name="certificate_resend"
    ),
    path("verify/", views.verify, name="verify_lookup"),
    path("verify/<str:verification_id>/", views.verify, name="verify"),
    path("verify/<str:verification_id>/v<int:number>/", views.verify, name="verify_version"),
]
