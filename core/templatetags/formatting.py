"""Template filters for people-facing text (loaded as a builtin: no {% load %}).

    {{ policy.premium_amount|money }}   £1,998.48
    {{ claim.incident_date|day }}       29 Nov 2026
    {{ page.paginator.count|number }}   12,345
    {{ policy_type|a }}                 an auto
"""

from django import template

from core import formatting

register = template.Library()


@register.filter
def money(value, currency=None):
    return formatting.money(value, currency)


@register.filter
def number(value):
    return formatting.number(value)


@register.filter
def day(value):
    return formatting.day(value)


@register.filter(name="a")
def with_article(value):
    return formatting.with_article(str(value))
