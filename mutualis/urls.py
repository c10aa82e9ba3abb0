from django.urls import include, path

urlpatterns = [
    path("", include("mutualis.web.urls")),
]
