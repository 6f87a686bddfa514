from pathlib import Path

import pytest

from tests.browser.servers import DaphneServer

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def server(transactional_db, tmp_path):
    """One ASGI server process (HTTP and WebSocket) on the test database."""
    server = DaphneServer(media_root=tmp_path / "media", log_path=tmp_path / "daphne.log")
    yield server
    server.stop()


@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM is not used
    # while it runs, but Django's guard cannot know that.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        # While Playwright's loop runs in this thread, asgiref sees an async context
        # and Django gives the test's ORM calls a connection of their own; give it
        # back to the pool, or the test database cannot be dropped at the end.
        from django.db import connections

        connections.close_all()
        browser.close()
