from django.urls import path

from activities import views

app_name = "activities"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("<slug:slug>/", views.detail, name="detail"),
]
