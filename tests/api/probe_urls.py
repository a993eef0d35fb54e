"""A URLconf of small ApiViews for testing waco.api alone (`@pytest.mark.urls("tests.api.probe_urls")`).

The views write business accounts because they are the one model waco.api knows.
"""

from django.db import transaction
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.response import Response

from waco.api.problems import Problem
from waco.api.scoping import account_for_write, visible
from waco.api.views import ApiView, ApiViewSet
from waco.channels.models import BusinessAccount


class AccountSerializer(serializers.Serializer):
    account = serializers.CharField(source="waba_id")
    name = serializers.CharField()


class AccountCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    waba_id = serializers.RegexField(r"^\d+$")
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


class AccountsView(ApiView):
    read_scope = "catalog:read"
    write_scope = "catalog:write"
    ordering = "waba_id"

    @extend_schema(responses=AccountSerializer(many=True))
    def get(self, request):
        return self.paginate(visible(BusinessAccount.objects.all(), request, account_field="pk"), AccountSerializer)

    @extend_schema(request=AccountCreateSerializer, responses={201: AccountSerializer})
    def post(self, request):
        fields = AccountCreateSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        account = BusinessAccount.objects.create(
            name=fields.validated_data["name"], waba_id=fields.validated_data["waba_id"], access_token="EAAG-probe"
        )
        return Response(AccountSerializer(account).data, status=201)


class AccountView(ApiView):
    read_scope = "catalog:read"
    scopes_by_method = {"PUT": "messages:send"}

    @extend_schema(responses=AccountSerializer)
    def get(self, request, waba_id):
        account = visible(BusinessAccount.objects.all(), request, account_field="pk").get(waba_id=waba_id)
        return Response(AccountSerializer(account).data)

    @extend_schema(request=None, responses=AccountSerializer)
    def put(self, request, waba_id):
        return Response(AccountSerializer(account_for_write(request, waba_id or None)).data)


class WriteTargetView(ApiView):
    write_scope = "catalog:write"

    @extend_schema(request=None, responses=AccountSerializer)
    def post(self, request):
        return Response(AccountSerializer(account_for_write(request, request.data.get("account"))).data)


class FailingView(ApiView):
    write_scope = "catalog:write"

    @extend_schema(request=None, responses={200: None})
    def post(self, request):
        if request.data.get("problem"):
            raise Problem(request.data["problem"], "Refused", detail="As asked.")
        BusinessAccount.objects.create(name="Half-done", waba_id="999", access_token="EAAG-probe")
        raise RuntimeError("a bug")


class LockedView(ApiView):
    """Waits for the row lock a test holds on the account "locked": a request kept in flight."""

    write_scope = "catalog:write"

    @extend_schema(request=None, responses=AccountSerializer)
    def post(self, request):
        with transaction.atomic():
            account = BusinessAccount.objects.select_for_update().get(waba_id="locked")
        return Response(AccountSerializer(account).data, status=201)


class AccountViewSet(mixins.ListModelMixin, ApiViewSet):
    read_scope = "orders:read"
    serializer_class = AccountSerializer
    ordering = "waba_id"

    def get_queryset(self):
        return visible(BusinessAccount.objects.all(), self.request, account_field="pk")


urlpatterns = [
    path("api/v1/account-list", AccountViewSet.as_view({"get": "list"})),
    path("api/v1/accounts", AccountsView.as_view()),
    path("api/v1/accounts/<str:waba_id>", AccountView.as_view()),
    path("api/v1/write-target", WriteTargetView.as_view()),
    path("api/v1/failing", FailingView.as_view()),
    path("api/v1/locked", LockedView.as_view()),
]
