"""« Mes cotisations » in the member space (included by the app's urls.py)."""

from django.urls import path
from django.views.decorators.cache import never_cache

from mutualis.portal.views import premiums

urlpatterns = [
    path("cotisations/", never_cache(premiums.PremiumsView.as_view()), name="premiums"),
    path(
        "cotisations/attestation/",
        never_cache(premiums.CertificateView.as_view()),
        name="premiums_certificate",
    ),
    path(
        "cotisations/lettres/<uuid:pk>/",
        never_cache(premiums.LetterView.as_view()),
        name="premiums_letter",
    ),
]
