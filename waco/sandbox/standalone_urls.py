# URLconf of `manage.py sandbox_serve`: the sandbox alone, at the same /sandbox/ prefix.
from django.urls import include, path

urlpatterns = [path("sandbox/", include("waco.sandbox.urls"))]
