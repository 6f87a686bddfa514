"""Business metrics exported at /metrics next to django-prometheus' own."""

from prometheus_client import Counter, Histogram

_MONEY_BUCKETS = (100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000,
                  250_000, 1_000_000)

policies_created = Counter(
    "insurance_policies_created", "Policies created.", ["policy_type"]
)
claims_processed = Counter(
    "insurance_claims_processed", "Claims moved to a new status.", ["status"]
)
premium_amount = Histogram(
    "insurance_premium_amount", "Premium of created policies.", buckets=_MONEY_BUCKETS
)
claim_amount = Histogram(
    "insurance_claim_amount", "Amount of reported claims.", buckets=_MONEY_BUCKETS
)
