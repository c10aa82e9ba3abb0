"""« Écrire à la mutuelle »: the member's threads (same ``portal`` namespace, no-store pages)."""

from django.urls import path
from django.views.decorators.cache import never_cache

from mutualis.portal.views import messages

urlpatterns = [
    path("messages/", never_cache(messages.MessageListView.as_view()), name="messages"),
    path(
        "messages/nouveau/",
        never_cache(messages.NewMessageView.as_view()),
        name="message_new",
    ),
    path(
        "messages/<uuid:pk>/",
        never_cache(messages.ThreadView.as_view()),
        name="message_thread",
    ),
]
