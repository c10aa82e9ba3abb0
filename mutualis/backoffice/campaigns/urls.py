"""The communication service's pages (included by the app's urls.py, same namespace)."""

from django.urls import path

from mutualis.backoffice.campaigns import choices, exports, notices, views

_CAMPAIGN = "communication/campagnes/<uuid:campaign_id>/"

urlpatterns = [
    path("communication/", views.campaign_list, name="campaign_list"),
    path("communication/campagnes/nouvelle/", views.campaign_create, name="campaign_create"),
    path(_CAMPAIGN, views.campaign_detail, name="campaign_detail"),
    path(_CAMPAIGN + "modifier/", views.campaign_edit, name="campaign_edit"),
    path(_CAMPAIGN + "envoyer/", views.campaign_send, name="campaign_send"),
    path(_CAMPAIGN + "suspendre/", views.campaign_pause, name="campaign_pause"),
    path(_CAMPAIGN + "reprendre/", views.campaign_resume, name="campaign_resume"),
    path(_CAMPAIGN + "annuler/", views.campaign_cancel, name="campaign_cancel"),
    path(_CAMPAIGN + "journal/", views.campaign_log, name="campaign_log"),
    path(_CAMPAIGN + "imprimeur/", exports.hand_to_printer, name="campaign_printer"),
    path(_CAMPAIGN + "courrier.csv", exports.printer_csv, name="campaign_printer_csv"),
    path(_CAMPAIGN + "courrier.pdf", exports.printer_pdf, name="campaign_printer_pdf"),
    path("communication/mentions/", notices.notice_list, name="notice_list"),
    path(
        "communication/adherents/<uuid:member_id>/choix/",
        choices.record_choice,
        name="record_choice",
    ),
    path(
        "communication/justificatifs/<uuid:event_id>/",
        choices.choice_document,
        name="choice_document",
    ),
]
