from django.contrib import admin
from django.urls import include, path

from activities import views as activity_views
from portal import views as portal_views

urlpatterns = [
    path("", activity_views.home, name="home"),
    path("", include("learners.urls")),
    path("", include("assessments.urls")),
    path("", include("attendance.urls")),
    path("accounts/", include("allauth.urls")),
    path("activities/", include("activities.urls")),
    path("api/", include("activities.api_urls")),
    path("admin/", admin.site.urls),
    path("healthz", portal_views.healthz, name="healthz"),
]
