from django.urls import path

from mutualis.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("confidentialite/", views.privacy_policy, name="policy"),
    path("confidentialite/<str:version>/", views.privacy_policy, name="policy-version"),
    path("mentions-legales/", views.legal_notice, name="legal"),
    path("cookies/", views.cookies, name="cookies"),
    path("contact/", views.contact, name="contact"),
]
