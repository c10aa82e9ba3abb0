"""URLs of the partners' API benchmark: the site's, and the baseline view."""

from django.urls import include, path

from bench.partners_site import bare_check


def _exempt(view):
    from django.views.decorators.csrf import csrf_exempt

    return csrf_exempt(view)


urlpatterns = [
    path("bench/bare-check", _exempt(bare_check)),
    path("", include("mutualis.urls")),
]
