import pytest

from tests.events.receiver import Receiver


@pytest.fixture
def private_urls(settings):
    """Webhook targets on 127.0.0.1 (the test receiver) are allowed."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    return settings


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def make_receiver():
    opened = []

    def make(**kwargs):
        r = Receiver(**kwargs).__enter__()
        opened.append(r)
        return r
    yield make
    for r in opened:
        r.__exit__(None, None, None)
