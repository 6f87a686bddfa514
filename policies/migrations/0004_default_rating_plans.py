"""A default rating plan per product, in force from 2000-01-01, so a fresh
environment can quote at once. Staff replace them with new versions in the admin.

The data is frozen here (a migration never imports code that may change)."""

import datetime
from decimal import Decimal

from django.db import migrations

FROM = datetime.date(2000, 1, 1)
POLICY_FEE = [{"code": "policy_fee", "label": "Policy fee", "amount": "25.00"}]
PREMIUM_TAX = [{"code": "ipt", "label": "Insurance premium tax", "rate": "0.12"}]

AGE_BANDS = {"answer": "age", "label": "Age", "kind": "bands"}

PLANS = {
    "auto": {
        "base_rate": "25.0000",
        "minimum_premium": "150.00",
        "factors": [
            {"answer": "vehicle_value", "label": "Vehicle value", "kind": "bands",
             "monotone": "increasing", "bands": [
                 {"upto": "10000", "factor": "0.90"}, {"upto": "30000", "factor": "1.00"},
                 {"upto": "60000", "factor": "1.15"}, {"upto": "120000", "factor": "1.35"},
                 {"upto": None, "factor": "1.60"}]},
            {"answer": "annual_mileage", "label": "Annual mileage", "kind": "bands",
             "monotone": "increasing", "bands": [
                 {"upto": "5000", "factor": "0.85"}, {"upto": "12000", "factor": "1.00"},
                 {"upto": "25000", "factor": "1.15"}, {"upto": None, "factor": "1.30"}]},
            {"answer": "prior_claims", "label": "Claims in the last 5 years", "kind": "bands",
             "monotone": "increasing", "bands": [
                 {"upto": "0", "factor": "1.00"}, {"upto": "1", "factor": "1.25"},
                 {"upto": "2", "factor": "1.50"}, {"upto": None, "factor": "2.00"}]},
            {**AGE_BANDS, "bands": [
                {"upto": "20", "factor": "1.80"}, {"upto": "24", "factor": "1.40"},
                {"upto": "69", "factor": "1.00"}, {"upto": None, "factor": "1.20"}]},
        ],
        "fees": POLICY_FEE,
        "taxes": PREMIUM_TAX,
        "appetite": [
            {"answer": "age", "op": "lt", "value": 17, "reason": "Drivers under 17 are not insured."},
            {"answer": "prior_claims", "op": "gt", "value": 3,
             "reason": "More than 3 claims in the last 5 years."},
            {"answer": "vehicle_value", "op": "gt", "value": 250000,
             "reason": "Vehicles worth more than 250,000 are referred to a specialist market."},
        ],
    },
    "home": {
        "base_rate": "1.5000",
        "minimum_premium": "120.00",
        "factors": [
            {"answer": "construction", "label": "Construction", "kind": "choice",
             "values": {"masonry": "1.00", "timber": "1.30"}},
            {"answer": "flood_zone", "label": "Flood zone", "kind": "bool",
             "true": "1.50", "false": "1.00"},
        ],
        "fees": POLICY_FEE,
        "taxes": PREMIUM_TAX,
        "appetite": [
            {"reason": "Timber buildings in a flood zone are outside our appetite.",
             "all": [{"answer": "construction", "op": "eq", "value": "timber"},
                     {"answer": "flood_zone", "op": "eq", "value": True}]},
            {"answer": "rebuild_value", "op": "gt", "value": 5000000,
             "reason": "Rebuild values above 5,000,000 are referred to a specialist market."},
        ],
    },
    "life": {
        "base_rate": "2.0000",
        "minimum_premium": "100.00",
        "factors": [
            {**AGE_BANDS, "monotone": "increasing", "bands": [
                {"upto": "29", "factor": "0.70"}, {"upto": "39", "factor": "1.00"},
                {"upto": "49", "factor": "1.60"}, {"upto": "59", "factor": "2.60"},
                {"upto": None, "factor": "4.20"}]},
            {"answer": "smoker", "label": "Smoker", "kind": "bool", "true": "1.75", "false": "1.00"},
        ],
        "fees": [],
        "taxes": [],
        "appetite": [
            {"answer": "age", "op": "lt", "value": 18, "reason": "Life cover starts at age 18."},
            {"answer": "age", "op": "gt", "value": 75, "reason": "Life cover is not written past age 75."},
        ],
    },
    "health": {
        "base_rate": "8.0000",
        "minimum_premium": "200.00",
        "factors": [
            {**AGE_BANDS, "monotone": "increasing", "bands": [
                {"upto": "17", "factor": "0.60"}, {"upto": "39", "factor": "1.00"},
                {"upto": "54", "factor": "1.40"}, {"upto": None, "factor": "2.10"}]},
            {"answer": "smoker", "label": "Smoker", "kind": "bool", "true": "1.40", "false": "1.00"},
            {"answer": "deductible", "label": "Deductible", "kind": "bands",
             "monotone": "decreasing", "bands": [
                 {"upto": "0", "factor": "1.00"}, {"upto": "500", "factor": "0.92"},
                 {"upto": "1000", "factor": "0.85"}, {"upto": "2500", "factor": "0.75"},
                 {"upto": None, "factor": "0.65"}]},
        ],
        "fees": [{"code": "admin_fee", "label": "Administration fee", "amount": "15.00"}],
        "taxes": [],
        "appetite": [
            {"answer": "age", "op": "gt", "value": 70,
             "reason": "Individual health cover is not written past age 70."},
        ],
    },
}


def create(apps, schema_editor):
    from auditlog.context import disable_auditlog

    RatingPlan = apps.get_model("policies", "RatingPlan")
    with disable_auditlog():  # made with the schema: nothing for the audit trail to say
        _create(RatingPlan)


def _create(RatingPlan):
    for policy_type, plan in PLANS.items():
        if RatingPlan.objects.filter(policy_type=policy_type).exists():
            continue
        RatingPlan.objects.create(
            policy_type=policy_type, version=1, effective_from=FROM,
            base_rate=Decimal(plan["base_rate"]), minimum_premium=Decimal(plan["minimum_premium"]),
            factors=plan["factors"], fees=plan["fees"], taxes=plan["taxes"],
            appetite=plan["appetite"], notes="Default plan made when the database was created.",
        )


def remove(apps, schema_editor):
    RatingPlan = apps.get_model("policies", "RatingPlan")
    RatingPlan.objects.filter(version=1, effective_from=FROM, quotes__isnull=True,
                              policies__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("policies", "0003_underwriting_plans_quotes_endorsements")]
    operations = [migrations.RunPython(create, remove)]
