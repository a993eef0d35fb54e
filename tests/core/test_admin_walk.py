"""Every admin page, from the registry (so pages added later are walked too), as every role.

- Every action of every registered ModelAdmin declares the permissions it needs.
- Every changelist, add, change and history page opens without an exception for each role: 200
  where the role may look, 403 where it may not; change pages are opened for the first rows of a
  data set with empty and partial related rows (tests/support/admin_world.py).
- Every custom admin view (a ModelAdmin's own get_urls) sends an anonymous visitor to the log-in
  page and refuses a view-only user's POST.
- No page shows a secret (the decrypted access token, a password hash, Meta's app secret, Stripe's
  keys), to any role.
"""

import pytest
from django.conf import settings
from django.contrib import admin
from django.db.models import Q
from django.test import Client, RequestFactory
from django.urls import reverse

from checkout.models import Order
from conversations.inbox import TABS
from conversations.models import Inbox, MediaStatus
from tests.support.admin_world import ACCESS_TOKEN, VIEW_ONLY, WEBHOOK_SECRETS, shop_world, staff_users
from waco.roles import ROLES

pytestmark = pytest.mark.django_db

ROWS_OPENED_PER_MODEL = 3
DEFAULT_VIEWS = {"changelist", "add", "history", "delete", "change"}
# Custom views that only read (GET): a view-only user may open them, and a POST is not allowed.
READ_ONLY_VIEWS = {
    "conversations_thread_live",
    "conversations_thread_media",
    "conversations_thread_for_order",
    "campaigns_campaign_progress",
}


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def url_name(model, view: str) -> str:
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"


def as_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def custom_views(model_admin):
    """The ModelAdmin's own URL patterns (not Django's changelist/add/change/...)."""
    opts = model_admin.model._meta
    default = {f"{opts.app_label}_{opts.model_name}_{view}" for view in DEFAULT_VIEWS}
    return [pattern for pattern in model_admin.get_urls() if pattern.name and pattern.name not in default]


def custom_view_url(pattern, obj) -> str:
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        if name == "object_id":
            kwargs[name] = obj.pk
        elif name == "message_id":  # a file of the thread's, if it has one
            kwargs[name] = message_with_file(obj) or 1
        elif name == "reference":  # an order placed in the thread, if there is one
            kwargs[name] = order_in(obj) or "x"
        else:
            kwargs[name] = 1 if converter.regex == "[0-9]+" else "x"
    return reverse(f"admin:{pattern.name}", kwargs=kwargs)


def order_in(thread) -> str | None:
    placed = Order.objects.filter(contact=thread.contact_id, phone_number=thread.phone_number_id)
    return placed.values_list("reference", flat=True).first()


def message_with_file(thread) -> int | None:
    stored = Q(media__status=MediaStatus.STORED) | Q(outbound__media__isnull=False)
    return thread.messages.filter(stored).values_list("pk", flat=True).first()


def secrets_planted(users) -> list[str]:
    return [
        ACCESS_TOKEN,
        *WEBHOOK_SECRETS,
        *settings.WACO_META_APP_SECRETS,
        settings.WACO_STRIPE_SECRET_KEY,
        *settings.WACO_STRIPE_WEBHOOK_SECRETS,
        *(user.password for user in users.values()),  # the stored hashes
    ]


@pytest.fixture
def world(settings):
    settings.WACO_STRIPE_SECRET_KEY = "sk_test_planted_secret_never_shown"
    settings.WACO_STRIPE_WEBHOOK_SECRETS = ["whsec_planted_secret_never_shown"]
    settings.WACO_META_APP_SECRETS = ["planted-meta-app-secret-never-shown"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    rows = shop_world()
    users = staff_users()
    return rows, users


def test_every_action_declares_its_permissions():
    undeclared = [
        f"{model._meta.label}: {name}"
        for model, model_admin in registered()
        for func, name, _ in model_admin._get_base_actions()
        if not getattr(func, "allowed_permissions", None)
    ]
    assert undeclared == []


def test_every_registered_model_has_rows_to_open(world):
    empty = [model._meta.label for model, _ in registered() if not model._default_manager.exists()]
    assert empty == [], "add rows for these admin pages to tests/support/admin_world.py"


@pytest.mark.parametrize("role", ["superuser", *(role.group for role in ROLES), VIEW_ONLY])
def test_every_page_opens_for_each_role_as_its_permissions_say(world, role):
    _, users = world
    user = users[role]
    client = Client()
    client.force_login(user)
    request = as_request(user)
    secrets = secrets_planted(users)
    seen = 0
    for model, model_admin in registered():
        pages = [
            (reverse(url_name(model, "changelist")), model_admin.has_view_or_change_permission(request)),
            (reverse(url_name(model, "add")), model_admin.has_add_permission(request)),
        ]
        for obj in model._default_manager.all()[:ROWS_OPENED_PER_MODEL]:
            pages.append(
                (
                    reverse(url_name(model, "change"), args=[obj.pk]),
                    model_admin.has_view_or_change_permission(request, obj),
                )
            )
        if obj := model._default_manager.first():
            pages.append(
                (
                    reverse(url_name(model, "history"), args=[obj.pk]),
                    model_admin.has_view_or_change_permission(request, obj),
                )
            )
        for url, may in pages:
            response = client.get(url)
            assert response.status_code == (200 if may else 403), f"{role} {url}: {response.status_code}"
            page = response.content.decode()
            leaked = [secret for secret in secrets if secret in page]
            assert leaked == [], f"{role} {url} shows a secret"
            seen += may
    assert seen > 0


@pytest.mark.parametrize("role", ["superuser", *(role.group for role in ROLES), VIEW_ONLY])
def test_the_inbox_opens_on_every_tab_and_search_for_each_role(world, role):
    """The inbox is a changelist of its own: each tab, a search, a second page and nonsense all answer."""
    _, users = world
    user = users[role]
    client = Client()
    client.force_login(user)
    may = admin.site._registry[Inbox].has_view_permission(as_request(user))
    url = reverse("admin:conversations_inbox_changelist")
    queries = [{"tab": tab} for tab in TABS] + [
        {"tab": "all", "q": "+971 55 987 1234"},
        {"tab": "all", "q": "US.1"},
        {"tab": "needs_reply", "q": "مرحبا"},
        {"tab": "no-such-tab", "page": "9"},
        {"page": "not a number"},
    ]
    secrets = secrets_planted(users)
    for query in queries:
        response = client.get(url, query)
        assert response.status_code == (200 if may else 403), f"{role} {query}: {response.status_code}"
        page = response.content.decode()
        assert [secret for secret in secrets if secret in page] == [], f"{role} {query} shows a secret"
    index = client.get(reverse("admin:index")).content.decode()
    assert ('id="count-threads-to-reply"' in index) == may, role
    assert may == (role in ("superuser", "Support agent", "Owner", VIEW_ONLY)), role  # who views threads


def test_a_view_only_user_is_offered_no_action_and_can_save_nothing(world):
    _, users = world
    viewer = users[VIEW_ONLY]
    request = as_request(viewer)
    client = Client()
    client.force_login(viewer)
    for model, model_admin in registered():
        assert model_admin.get_actions(request) == {}, model._meta.label
        assert client.get(reverse(url_name(model, "add"))).status_code == 403, model._meta.label
        obj = model._default_manager.first()
        page = client.get(reverse(url_name(model, "change"), args=[obj.pk])).content.decode()
        assert 'name="_save"' not in page, model._meta.label


def test_custom_admin_views_need_a_log_in_and_refuse_a_view_only_user(world):
    _, users = world
    viewer = Client()
    viewer.force_login(users[VIEW_ONLY])
    walked = 0
    for model, model_admin in registered():
        obj = model._default_manager.first()
        for pattern in custom_views(model_admin):
            url = custom_view_url(pattern, obj)
            anonymous = Client().post(url)
            assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"], url
            posted = viewer.post(url, {"text": "hello", "note": "hi", "reason": "no", "amount": ""})
            assert posted.status_code == (405 if pattern.name in READ_ONLY_VIEWS else 403), url
            walked += 1
    assert walked >= 5  # the thread's take, hand back, reply, template; the order's fulfil


@pytest.mark.parametrize("role", ["superuser", *(role.group for role in ROLES), VIEW_ONLY])
def test_read_only_custom_views_open_for_each_role_as_its_permissions_say(world, role):
    """The conversation page's live endpoint answers whoever may view the thread, and refuses the rest."""
    _, users = world
    client = Client()
    client.force_login(users[role])
    request = as_request(users[role])
    walked = 0
    for model, model_admin in registered():
        for pattern in custom_views(model_admin):
            if pattern.name not in READ_ONLY_VIEWS:
                continue
            for obj in model._default_manager.order_by("pk")[:ROWS_OPENED_PER_MODEL]:
                response = client.get(custom_view_url(pattern, obj), {"after": 0})
                may = model_admin.has_view_or_change_permission(request, obj)
                found = {"message_id": message_with_file, "reference": order_in}
                found = all(find(obj) for name, find in found.items() if name in pattern.pattern.converters)
                answer = 302 if "reference" in pattern.pattern.converters else 200  # to the thread's page
                expected = (answer if found else 404) if may else 403
                assert response.status_code == expected, f"{role} {pattern.name}: {response.status_code}"
                walked += 1
    assert walked == len(READ_ONLY_VIEWS) * ROWS_OPENED_PER_MODEL


def snapshot() -> dict:
    """Every row of every registered model, field by field."""
    return {model._meta.label: list(model._default_manager.order_by("pk").values_list()) for model, _ in registered()}


def test_posting_any_action_or_change_as_a_view_only_user_changes_nothing(world):
    _, users = world
    client = Client()
    client.force_login(users[VIEW_ONLY])
    before = snapshot()
    posted = 0
    for model, model_admin in registered():
        pks = list(model._default_manager.values_list("pk", flat=True))
        for _, name, _ in model_admin._get_base_actions():
            response = client.post(
                reverse(url_name(model, "changelist")),
                {"action": name, "_selected_action": pks, "post": "yes", "index": 0},
            )
            assert response.status_code in (200, 302), f"{model._meta.label} {name}: {response.status_code}"
            posted += 1
        if pks:  # and the change form itself, posted as if it had been offered
            assert client.post(reverse(url_name(model, "change"), args=[pks[0]]), {}).status_code == 403
    assert posted > len(admin.site._registry)  # delete_selected everywhere, and the pages' own actions
    assert snapshot() == before
