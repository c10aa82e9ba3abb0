"""The affiliation exchange with the mandatory schemes, and the rejections to deal with."""

from django.urls import path

from mutualis.backoffice.exchanges import views

urlpatterns = [
    path("echanges/", views.exchange_list, name="exchange_list"),
    path("echanges/rejets/<int:line_id>/", views.rejection_resolve, name="rejection_resolve"),
]
