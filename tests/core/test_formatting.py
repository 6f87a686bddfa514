"""core.formatting and its template filters: amounts, dates and articles as people read them."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template

from core.formatting import article, counted, day, money, number, with_article


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("1998.48"), "£1,998.48"),
    (Decimal("1998.48000000000"), "£1,998.48"),  # a database sum, quantized
    (Decimal("1234567.891"), "£1,234,567.89"),
    (Decimal("0.005"), "£0.01"),  # half up, as money is rounded
    (Decimal("100"), "£100.00"),
    (Decimal("-42.5"), "-£42.50"),
    (250000, "£250,000.00"),
    ("640.00", "£640.00"),
    (None, "–"),
    ("", "–"),
    ("lots", "lots"),
])
def test_money_in_the_default_currency(settings, value, expected):
    settings.CURRENCY = "GBP"
    assert money(value) == expected


@pytest.mark.parametrize(("currency", "expected"), [
    ("EUR", "€1,998.48"), ("USD", "$1,998.48"), ("JPY", "¥1,998"), ("SEK", "SEK 1,998.48"),
])
def test_money_follows_the_currency_setting(settings, currency, expected):
    settings.CURRENCY = currency
    assert money(Decimal("1998.48")) == expected


def test_money_filter_in_a_template(settings):
    settings.CURRENCY = "GBP"
    out = Template("{{ a|money }} {{ b|money }} {{ c|money:'EUR' }}").render(
        Context({"a": Decimal("1998.48000000000"), "b": None, "c": 12}))
    assert out == "£1,998.48 – €12.00"


@pytest.mark.parametrize(("value", "expected"), [
    (datetime.date(2026, 11, 29), "29 Nov 2026"),
    (datetime.date(2026, 1, 5), "5 Jan 2026"),
    (datetime.datetime(2026, 3, 9, 23, 30, tzinfo=datetime.UTC), "9 Mar 2026"),
    ("2026-11-29", "29 Nov 2026"),
    (None, "–"),
])
def test_day_as_the_pages_show_dates(value, expected):
    assert day(value) == expected


def test_day_filter_matches_the_pages_date_format():
    value = datetime.date(2026, 11, 29)
    out = Template('{{ d|day }}|{{ d|date:"j M Y" }}').render(Context({"d": value}))
    assert out == "29 Nov 2026|29 Nov 2026"


@pytest.mark.parametrize(("word", "expected"), [
    ("auto", "an"), ("approved", "an"), ("home", "a"), ("life", "a"), ("health", "a"),
    ("pending", "a"), ("processing", "a"), ("denied", "a"), ("expired", "an"),
    ("hour", "an"), ("user", "a"), ("", "a"),
])
def test_article(word, expected):
    assert article(word) == expected


def test_with_article_and_its_filter():
    assert with_article("auto policy") == "an auto policy"
    assert with_article("approved claim", capital=True) == "An approved claim"
    assert Template("{{ t|a }}").render(Context({"t": "auto"})) == "an auto"


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 claims"), (1, "1 claim"), (2, "2 claims"),
])
def test_counted(count, expected):
    assert counted(count, "claim") == expected


def test_counted_with_an_irregular_plural():
    assert counted(1, "policy", "policies") == "1 policy"
    assert counted(3, "policy", "policies") == "3 policies"


@pytest.mark.parametrize(("value", "expected"), [
    (0, "0"), (999, "999"), (2025, "2,025"), (1_000_093, "1,000,093"), (-1500, "-1,500"),
    (True, "True"), ("12", "12"), (None, "None"),
])
def test_a_count_has_thousands_separators(value, expected):
    assert number(value) == expected
    assert Template("{{ n|number }}").render(Context({"n": value})) == expected
