"""Rights requests in the back office (included by the app's urls.py, same namespace)."""

from django.urls import path

from mutualis.backoffice.rights import actions as rights_actions
from mutualis.backoffice.rights import people as rights_people
from mutualis.backoffice.rights import views as rights

_REQUEST = "droits/demandes/<uuid:request_id>/"
_RESTRICTION = "droits/limitations/<int:restriction_id>/"

urlpatterns = [
    path("droits/", rights.dashboard, name="rights_dashboard"),
    path("droits/enregistrer/", rights.register, name="rights_register"),
    path(_REQUEST, rights.request_detail, name="rights_request"),
    path(_REQUEST + "identite/", rights_actions.identity_check, name="rights_identity"),
    path(_REQUEST + "justificatif/", rights_actions.ask_document, name="rights_ask_document"),
    path(_REQUEST + "prolonger/", rights_actions.extend, name="rights_extend"),
    path(_REQUEST + "traiter/", rights_actions.process, name="rights_process"),
    path(_REQUEST + "rectifier/", rights_actions.rectify, name="rights_rectify"),
    path(_REQUEST + "opposition/", rights_actions.decide_objection, name="rights_objection"),
    path(_REQUEST + "repondre/", rights_actions.answer, name="rights_answer"),
    path(_REQUEST + "refuser/", rights_actions.refuse, name="rights_refuse"),
    path(_REQUEST + "clore/", rights_actions.close, name="rights_close"),
    path(_REQUEST + "note/", rights_actions.note, name="rights_note"),
    path(_REQUEST + "rattacher/", rights_actions.attach, name="rights_attach"),
    path(_REQUEST + "copie/", rights_actions.export, name="rights_export"),
    path("droits/personnes/<uuid:person_id>/", rights_people.person_detail, name="rights_person"),
    path("droits/personnes/<uuid:person_id>/deces/", rights_people.death, name="rights_death"),
    path(
        _RESTRICTION + "avis/",
        rights_people.restriction_notice,
        name="rights_restriction_notice",
    ),
    path(_RESTRICTION + "lever/", rights_people.restriction_lift, name="rights_restriction_lift"),
    path(
        _RESTRICTION + "exception/",
        rights_people.restriction_override,
        name="rights_restriction_override",
    ),
]
