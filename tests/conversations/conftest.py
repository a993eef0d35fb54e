import pytest


@pytest.fixture(autouse=True)
def keywords(seed_keywords):
    """The dialogue reads the keyword table, which transactional tests elsewhere may have emptied."""
