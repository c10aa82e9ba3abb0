"""The register of the authorities' requisitions."""

from django.urls import path

from mutualis.backoffice.requisitions import views

urlpatterns = [
    path("requisitions/", views.requisition_list, name="requisition_list"),
    path("requisitions/nouvelle/", views.requisition_create, name="requisition_create"),
    path("requisitions/<int:requisition_id>/", views.requisition_detail, name="requisition_detail"),
    path(
        "requisitions/<int:requisition_id>/decision/",
        views.requisition_decide,
        name="requisition_decide",
    ),
    path(
        "requisitions/<int:requisition_id>/export/",
        views.requisition_export,
        name="requisition_export",
    ),
    path(
        "requisitions/<int:requisition_id>/archive.bak",
        views.requisition_download,
        name="requisition_download",
    ),
    path(
        "requisitions/<int:requisition_id>/remise/",
        views.requisition_deliver,
        name="requisition_deliver",
    ),
    path(
        "requisitions/<int:requisition_id>/fin-du-secret/",
        views.requisition_lift_secrecy,
        name="requisition_lift_secrecy",
    ),
    path("requisitions/courriers/<uuid:notice_id>/", views.letter_sent, name="letter_sent"),
]
