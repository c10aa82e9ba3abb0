"""URL patterns of « Mes droits », included by the app's urls.py (same namespace).

Every page is wrapped in ``never_cache``, like the rest of the member space.
"""

from django.urls import path
from django.views.decorators.cache import never_cache

from mutualis.portal.views import rights


def _private(view_class, **initkwargs):
    return never_cache(view_class.as_view(**initkwargs))


urlpatterns = [
    path("droits/", _private(rights.RightsIndexView), name="rights"),
    path("droits/acces/", _private(rights.AccessView), name="rights_access"),
    path("droits/portabilite/", _private(rights.PortabilityView), name="rights_portability"),
    path("droits/rectification/", _private(rights.RectificationView), name="rights_rectification"),
    path("droits/effacement/", _private(rights.ErasureView), name="rights_erasure"),
    path("droits/opposition/", _private(rights.ObjectionView), name="rights_objection"),
    path(
        "droits/opposition-prospection/",
        _private(rights.MarketingObjectionView),
        name="rights_marketing_objection",
    ),
    path(
        "droits/retrait-consentement/",
        _private(rights.ConsentWithdrawalView),
        name="rights_consent_withdrawal",
    ),
    path("droits/limitation/", _private(rights.RestrictionView), name="rights_restriction"),
    path("droits/directives/", _private(rights.PostMortemView), name="rights_post_mortem"),
    path(
        "droits/directives/<uuid:pk>/revoquer/",
        _private(rights.RevokeDirectiveView),
        name="rights_revoke_directive",
    ),
    path("droits/demandes/<uuid:pk>/", _private(rights.RequestDetailView), name="rights_request"),
    path(
        "droits/demandes/<uuid:pk>/copie/",
        _private(rights.RequestDownloadView),
        name="rights_download",
    ),
]
