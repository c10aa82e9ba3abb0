"""Staff accounts."""

from django.urls import path

from mutualis.backoffice.staff import views

urlpatterns = [
    path("personnels/", views.staff_list, name="staff_list"),
]
