"""URLs of the member-space benchmark: the site's, and a bare view of each measured page.

The bare views carry the real pages' URL names, so the member-space menu marks the same entry.
"""

from django.urls import include, path

from bench.member_space_site import dashboard, messages, my_data

urlpatterns = [
    path("bench/nu/espace/<int:user_id>/", dashboard, name="dashboard"),
    path("bench/nu/mes-donnees/<int:user_id>/<uuid:person_id>/", my_data, name="my_data"),
    path("bench/nu/messages/<int:user_id>/", messages, name="messages"),
    path("", include("mutualis.urls")),
]
