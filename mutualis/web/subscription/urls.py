from django.urls import path

from mutualis.web.subscription import beneficiaries, views

app_name = "subscription"

urlpatterns = [
    path("", views.start, name="start"),
    path("abandonner/", views.abandon, name="abandon"),
    path("confirmation/", views.done, name="done"),
    path("etape/beneficiaires/<int:number>/", beneficiaries.beneficiary, name="beneficiary"),
    path("etape/<slug:slug>/", views.step, name="step"),
]
