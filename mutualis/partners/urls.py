"""The partners' API, mounted at /api/v1/."""

from mutualis.partners.api import api

urlpatterns = [*api.urls[0]]
app_name = api.urls_namespace
