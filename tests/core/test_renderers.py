"""core.renderers.JSONRenderer writes what DRF's JSONRenderer writes, byte for byte."""

import datetime
import decimal
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from core.renderers import JSONRenderer

SAMPLES = [
    {"count": 3, "next": "https://x.example/api/claims?page=2", "previous": None,
     "results": [{"id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
                  "amount": decimal.Decimal("1234.50"), "ok": True, "n": -7,
                  "when": datetime.datetime(2026, 1, 2, 3, 4, 5, 678901,
                                            tzinfo=datetime.UTC),
                  "local": datetime.datetime(2026, 1, 2, 3, 4, 5),
                  "day": datetime.date(2026, 2, 28), "at": datetime.time(9, 30, 1, 500),
                  "text": "Zoë «quoted» \"x\" </script> \u2028 line \u2029 para \x00 \t",
                  "lazy": gettext_lazy("Invalid page."), "nested": [[], {}, [None]]}]},
    [], {}, "plain", 0, {1: "int key"},
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_same_bytes_as_drf(data):
    assert JSONRenderer().render(data, "application/json") == \
        renderers.JSONRenderer().render(data, "application/json")


def test_indented_output_is_drfs_own():
    data = {"a": [1, 2]}
    assert JSONRenderer().render(data, "application/json; indent=2") == \
        renderers.JSONRenderer().render(data, "application/json; indent=2")
    assert b"\n" in JSONRenderer().render(data, "application/json; indent=2")


def test_what_orjson_refuses_falls_back_to_drf():
    big = {"n": 2 ** 70}
    assert JSONRenderer().render(big, "application/json") == b'{"n":1180591620717411303424}'
