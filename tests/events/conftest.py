import pytest


@pytest.fixture(autouse=True)
def _fresh_events_cache():
    """The per-process copy of who listens starts empty in every test (the
    shared cache is a fresh LocMemCache per test already)."""
    from events import services

    services._local.clear()
    yield
    services._local.clear()
