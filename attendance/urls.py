from django.urls import path

from attendance import views

app_name = "attendance"

urlpatterns = [
    path("in/screen/<int:session_id>/", views.screen, name="screen"),
    path("in/screen/<int:session_id>/state/", views.screen_state, name="screen_state"),
    path("in/<slug:slug>/", views.checkin, name="checkin"),
]
