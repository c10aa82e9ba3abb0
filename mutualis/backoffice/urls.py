from django.urls import path

from mutualis.backoffice import urls_contact, urls_privacy, urls_rights
from mutualis.backoffice.views import auth, home, members, reveal, staff

app_name = "backoffice"

urlpatterns = [
    path("", home.home, name="home"),
    path("connexion/", auth.login, name="login"),
    path("connexion/code/", auth.login_code, name="login_code"),
    path("connexion/activation/", auth.enrol, name="enrol"),
    path("deconnexion/", auth.logout, name="logout"),
    path("adherents/", members.member_search, name="member_search"),
    path("adherents/<uuid:member_id>/", members.member_detail, name="member_detail"),
    path(
        "adherents/<uuid:member_id>/personnes/<uuid:person_id>/nir/",
        reveal.reveal_nir,
        name="reveal_nir",
    ),
    path(
        "adherents/<uuid:member_id>/mandats/<uuid:mandate_id>/iban/",
        reveal.reveal_iban,
        name="reveal_iban",
    ),
    path("personnels/", staff.staff_list, name="staff_list"),
]
urlpatterns += urls_contact.urlpatterns + urls_privacy.urlpatterns + urls_rights.urlpatterns
