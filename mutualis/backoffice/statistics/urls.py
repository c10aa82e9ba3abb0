"""The audience dashboard (included by the app's urls.py, same namespace)."""

from django.urls import path

from mutualis.backoffice.statistics import views

urlpatterns = [
    path("communication/audience/", views.statistics, name="statistics"),
]
