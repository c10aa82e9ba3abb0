"""The project's URLs plus pages nobody covered: the coverage test must name them."""

from django.http import HttpResponse
from django.urls import include, path

from mutualis.urls import urlpatterns as project


def _page(request):
    return HttpResponse("nouvelle page")


urlpatterns = [
    path("nouveau/", include(([path("page/", _page, name="page")], "backoffice_new"))),
    path("nouveau/sans-nom/", _page),
    *project,
]
