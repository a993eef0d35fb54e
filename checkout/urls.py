from django.urls import path

from checkout import views

app_name = "checkout"

urlpatterns = [
    path("<str:token>/", views.pay, name="pay"),
    path("<str:token>/done/", views.pay_done, name="pay-done"),
]
