"""URL patterns included by the app's urls.py (same namespace): the DPO's privacy pages."""

from django.urls import path

from mutualis.backoffice.privacy import views as privacy

urlpatterns = [
    path("conservation/", privacy.retention_overview, name="retention"),
    path("conservation/gels/", privacy.holds, name="holds"),
    path("conservation/gels/personne/", privacy.hold_place_person, name="hold_place_person"),
    path("conservation/gels/enregistrement/", privacy.hold_place_record, name="hold_place_record"),
    path("conservation/gels/<int:hold_id>/lever/", privacy.hold_release, name="hold_release"),
    path("registre/", privacy.processing_register, name="processing_register"),
    path(
        "registre/registre-des-traitements.csv",
        privacy.processing_register_csv,
        name="processing_register_csv",
    ),
    path("journal/", privacy.audit_log, name="audit_log"),
    path("journal/filtrer/", privacy.audit_filter, name="audit_filter"),
    path("journal/verifier/", privacy.audit_verify, name="audit_verify"),
]
