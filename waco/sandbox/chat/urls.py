# The demo chat page, mounted by the project at /demo/chat/ when the sandbox is installed.
from django.urls import path

from waco.sandbox.chat import views

app_name = "sandbox_chat"

urlpatterns = [
    path("", views.chat_page, name="page"),
    path("api/thread", views.thread_api, name="thread"),
    path("api/catalog", views.catalog_api, name="catalog"),
    path("api/media/<str:media_id>", views.media_file, name="media"),
]
