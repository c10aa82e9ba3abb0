"""Communication preferences in the member space (included by the app's urls.py)."""

from django.urls import path
from django.views.decorators.cache import never_cache

from mutualis.portal.views import preferences

urlpatterns = [
    path(
        "preferences/",
        never_cache(preferences.PreferencesView.as_view()),
        name="preferences",
    ),
    path(
        "preferences/opposition/",
        never_cache(preferences.ObjectToMarketingView.as_view()),
        name="preferences_object",
    ),
]
