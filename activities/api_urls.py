from django.urls import path

from activities import api

app_name = "api"

urlpatterns = [
    path("activities/", api.activity_list, name="activity_list"),
    path("activities/<slug:slug>/", api.activity_detail, name="activity_detail"),
]
