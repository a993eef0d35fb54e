# The demo chat page, mounted by the project at /demo/chat/ when the sandbox is installed.
from django.urls import path

from waco.sandbox import chat

app_name = "sandbox_chat"

urlpatterns = [
    path("", chat.chat_page, name="page"),
    path("api/thread", chat.thread_api, name="thread"),
    path("api/catalog", chat.catalog_api, name="catalog"),
    path("api/media/<str:media_id>", chat.media_file, name="media"),
]
