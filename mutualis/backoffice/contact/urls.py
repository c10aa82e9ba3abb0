"""Inquiries and complaints in the back office (included by the app's urls.py, same namespace)."""

from django.urls import path

from mutualis.backoffice.contact import complaints, inquiries

urlpatterns = [
    path("demandes/", inquiries.inquiry_queue, name="inquiry_queue"),
    path("demandes/enregistrer/", inquiries.inquiry_register, name="inquiry_register"),
    path("demandes/<uuid:inquiry_id>/", inquiries.inquiry_detail, name="inquiry_detail"),
    path("demandes/<uuid:inquiry_id>/repondre/", inquiries.inquiry_answer, name="inquiry_answer"),
    path("demandes/<uuid:inquiry_id>/etat/", inquiries.inquiry_status, name="inquiry_status"),
    path("demandes/<uuid:inquiry_id>/service/", inquiries.inquiry_assign, name="inquiry_assign"),
    path(
        "demandes/<uuid:inquiry_id>/reclamation/",
        inquiries.inquiry_qualify,
        name="inquiry_qualify",
    ),
    path(
        "demandes/<uuid:inquiry_id>/pieces/<uuid:attachment_id>/",
        inquiries.attachment_download,
        name="attachment_download",
    ),
    path("reclamations/", complaints.complaint_queue, name="complaint_queue"),
    path(
        "reclamations/<uuid:inquiry_id>/accuse-reception/",
        complaints.complaint_acknowledge,
        name="complaint_acknowledge",
    ),
    path(
        "reclamations/<uuid:inquiry_id>/clore/",
        complaints.complaint_close,
        name="complaint_close",
    ),
]
