import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission


@pytest.fixture(autouse=True)
def keywords(seed_keywords):
    """The dialogue reads the keyword table, which transactional tests elsewhere may have emptied."""


@pytest.fixture
def viewer(client):
    """A client logged in as staff who may read threads but not change them."""
    user = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_thread"))
    client.force_login(user)
    return client
