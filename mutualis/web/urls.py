from django.urls import include, path, re_path

from mutualis.consent.unsubscribe import TOKEN_PATTERN
from mutualis.web import audience, views
from mutualis.web.campaigns.unsubscribe import unsubscribe_view
from mutualis.web.subscription import views as subscription_views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("confidentialite/", views.privacy_policy, name="policy"),
    path("confidentialite/<str:version>/", views.privacy_policy, name="policy-version"),
    path(
        "confidentialite/<str:version>/changements/",
        views.policy_changes,
        name="policy-changes",
    ),
    path("mentions-legales/", views.legal_notice, name="legal"),
    path("cookies/", views.cookies, name="cookies"),
    path("cookies/mesure-audience/", audience.choice, name="audience_choice"),
    path("statistiques/evenement/", audience.event, name="audience_event"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("contact/", include("mutualis.web.contact_form")),
    path("vos-droits/", include("mutualis.web.rights_form")),
    path("adhesion/", include("mutualis.web.subscription.urls")),
    path("conditions-generales/", subscription_views.cgu, name="cgu"),
    path("conditions-generales/<str:version>/", subscription_views.cgu, name="cgu-version"),
    re_path(rf"^desinscription/(?P<token>{TOKEN_PATTERN})/$", unsubscribe_view, name="unsubscribe"),
]
