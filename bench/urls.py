from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

BARE_TABLE = "bench_bare_insert"


@csrf_exempt
def bare_insert(request):
    """The floor a webhook is measured against: read the body, one INSERT, 200."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (body, received_at) VALUES (%s, now())", [request.body.decode()])
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare_insert),
    path("", include("waco.urls")),
]
