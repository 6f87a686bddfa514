import pytest

from tests.browser.servers import DaphneServer


@pytest.fixture
def server(transactional_db, tmp_path):
    """One ASGI server process (HTTP and WebSocket) on the test database."""
    server = DaphneServer(media_root=tmp_path / "media", log_path=tmp_path / "daphne.log")
    yield server
    server.stop()
