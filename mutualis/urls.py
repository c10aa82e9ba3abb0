from django.urls import include, path

urlpatterns = [
    path("espace/", include("mutualis.portal.urls")),
    path("gestion/", include("mutualis.backoffice.urls")),
    path("", include("mutualis.web.urls")),
]
