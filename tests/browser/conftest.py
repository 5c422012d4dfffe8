import pytest

# The one Playwright (its session fixture ``browser``) is in tests/conftest.py:
# a second ``sync_playwright`` in the same worker process cannot start while the
# first runs, so every browser test — in this folder or an app's — shares it.
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402,F401


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
