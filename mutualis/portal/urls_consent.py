"""Communication preferences in the member space (included by the app's urls.py)."""

from django.urls import path
from django.views.decorators.cache import never_cache

from mutualis.portal.views import preferences, receipts

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
    path(
        "preferences/recus/<uuid:event_id>/",
        never_cache(receipts.ReceiptView.as_view()),
        name="consent_receipt",
    ),
    path(
        "preferences/recus/<uuid:event_id>/recu.json",
        never_cache(receipts.ReceiptJsonView.as_view()),
        name="consent_receipt_json",
    ),
]
