"""The back office (/gestion/): one package per area, each with its own URL patterns.

An area (``members``, ``contact``, ``rights``, ``privacy``, ``staff``…) holds its views, forms
and ``urls.py``; its templates live under ``templates/backoffice/<area>/``. Every area shares the
``backoffice`` namespace, so URL names stay ``backoffice:<name>``.
"""

from django.urls import path

from mutualis.backoffice import home
from mutualis.backoffice.auth import urls as auth_urls
from mutualis.backoffice.auth import views as auth
from mutualis.backoffice.billing import urls as billing_urls
from mutualis.backoffice.breaches import urls as breaches_urls
from mutualis.backoffice.campaigns import urls as campaigns_urls
from mutualis.backoffice.contact import urls as contact_urls
from mutualis.backoffice.disclosures import urls as disclosures_urls
from mutualis.backoffice.exchanges import urls as exchanges_urls
from mutualis.backoffice.members import urls as members_urls
from mutualis.backoffice.organisations import urls as organisations_urls
from mutualis.backoffice.privacy import urls as privacy_urls
from mutualis.backoffice.requisitions import urls as requisitions_urls
from mutualis.backoffice.rights import urls as rights_urls
from mutualis.backoffice.staff import urls as staff_urls
from mutualis.backoffice.statistics import urls as statistics_urls

app_name = "backoffice"

urlpatterns = [
    path("", home.home, name="home"),
    path("connexion/", auth.login, name="login"),
    path("connexion/code/", auth.login_code, name="login_code"),
    path("connexion/activation/", auth.enrol, name="enrol"),
    path("deconnexion/", auth.logout, name="logout"),
]
for area in (
    auth_urls,
    members_urls,
    staff_urls,
    contact_urls,
    privacy_urls,
    rights_urls,
    campaigns_urls,
    statistics_urls,
    breaches_urls,
    billing_urls,
):
    urlpatterns += area.urlpatterns
# Outside recipients: organisations and keys, scheme exchanges, disclosures, requisitions.
for area in (organisations_urls, exchanges_urls, disclosures_urls, requisitions_urls):
    urlpatterns += area.urlpatterns
