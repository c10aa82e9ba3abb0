"""The cotisations service's pages (/gestion/cotisations/)."""

from django.urls import path

from mutualis.backoffice.billing import views

urlpatterns = [
    path("cotisations/", views.queue, name="billing_queue"),
    path("cotisations/adherents/<uuid:member_id>/", views.member_account, name="billing_member"),
    path(
        "cotisations/adherents/<uuid:member_id>/paiement/",
        views.record_payment,
        name="billing_record_payment",
    ),
    path(
        "cotisations/impayes/<uuid:case_id>/mise-en-demeure/",
        views.send_notice,
        name="billing_case_notice",
    ),
    path(
        "cotisations/impayes/<uuid:case_id>/resiliation/",
        views.terminate,
        name="billing_case_terminate",
    ),
    path(
        "cotisations/impayes/<uuid:case_id>/echeancier/",
        views.grant_plan,
        name="billing_case_plan",
    ),
    path("cotisations/echeanciers/<uuid:plan_id>/fin/", views.end_plan, name="billing_plan_end"),
    path("cotisations/lettres/<uuid:letter_id>/", views.letter_pdf, name="billing_letter_pdf"),
    path("cotisations/avis-par-courrier/", views.notices_by_post, name="billing_notices_post"),
    path(
        "cotisations/avis-par-courrier/<uuid:run_id>/",
        views.notices_run_pdf,
        name="billing_notices_run_pdf",
    ),
    path("cotisations/remises/", views.batches, name="billing_batches"),
    path("cotisations/remises/<uuid:batch_id>/", views.batch_detail, name="billing_batch"),
    path(
        "cotisations/remises/<uuid:batch_id>/fichier/", views.batch_file, name="billing_batch_file"
    ),
    path("cotisations/retours/", views.returns, name="billing_returns"),
    path(
        "cotisations/retours/<uuid:return_id>/traite/",
        views.handle_return,
        name="billing_return_handle",
    ),
]
