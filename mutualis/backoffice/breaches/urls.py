"""The breach register (DPO)."""

from django.urls import path

from mutualis.backoffice.breaches import views

urlpatterns = [
    path("violations/", views.register, name="breach_register"),
    path("violations/registre.csv", views.register_csv, name="breach_register_csv"),
    path("violations/nouvelle/", views.record, name="breach_record"),
    path("violations/<int:breach_id>/", views.detail, name="breach_detail"),
    path("violations/<int:breach_id>/modifier/", views.edit, name="breach_edit"),
    path(
        "violations/<int:breach_id>/notification/", views.notification, name="breach_notification"
    ),
    path(
        "violations/<int:breach_id>/notification.txt",
        views.notification_text,
        name="breach_notification_text",
    ),
    path("violations/<int:breach_id>/information/", views.decide, name="breach_decide"),
    path("violations/<int:breach_id>/personnes/", views.add_people, name="breach_people"),
    path("violations/<int:breach_id>/lettres/", views.send_letters, name="breach_send_letters"),
    path(
        "violations/<int:breach_id>/lettres.txt", views.postal_letters, name="breach_postal_letters"
    ),
    path("violations/<int:breach_id>/clore/", views.close, name="breach_close"),
    path("violations/<int:breach_id>/rouvrir/", views.reopen, name="breach_reopen"),
]
