from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("mutualis.partners.urls")),
    path("espace/", include("mutualis.portal.urls")),
    path("gestion/", include("mutualis.backoffice.urls")),
    path("", include("mutualis.web.urls")),
]
