"""The tallies the database keeps (core.db.tallies): active policies by agency and type,
claims by agency and status. Whatever writes the rows - a service, a bulk load, a raw
UPDATE, a delete, a truncate - the figures read from the tally equal the ones grouped
from the rows, and reading them does not touch the rows."""

import datetime
from decimal import Decimal

import pytest
from auditlog.context import disable_auditlog
from django.db import connection, transaction
from django.db.models import Avg, Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims import services as claim_services
from claims.models import Claim, ClaimTally
from claims.selectors import claim_status_counts, claims_overdue, claims_visible_to
from core.db import tallies
from core.db.tallies import SLOTS, Tally
from customers.models import Customer, CustomerTally
from customers.selectors import customers_visible_to
from policies import services as policy_services
from policies.models import Policy, PolicyStatus, PolicyTotal
from policies.selectors import policies_visible_to, policy_summary
from tests.conftest import requires_postgres
from tests.factories import ClaimFactory, CustomerFactory, PolicyFactory

pytestmark = [pytest.mark.django_db, requires_postgres]


def grouped_summary(agency_id=None, every=False) -> list[dict]:
    rows = Policy.objects.filter(status=PolicyStatus.ACTIVE)
    if not every:
        rows = rows.filter(agency_id=agency_id)
    return [{"policy_type": r["policy_type"], "count": r["count"],
             "total_premium": r["total_premium"], "avg_premium": r["avg_premium"]}
            for r in rows.order_by().values("policy_type").annotate(
                count=Count("id"), total_premium=Sum("premium_amount"),
                avg_premium=Avg("premium_amount")).order_by("policy_type")]


def assert_summaries(broker, staff):
    for user, expected in ((broker, grouped_summary(broker.agency_id)),
                           (staff, grouped_summary(every=True))):
        got = policy_summary(user=user)
        assert all(type(row["count"]) is int for row in got)
        assert [(r["policy_type"], r["count"], r["total_premium"]) for r in got] == [
            (r["policy_type"], r["count"], r["total_premium"]) for r in expected]
        for mine, theirs in zip(got, expected, strict=True):
            assert mine["avg_premium"].quantize(Decimal("0.01")) == \
                theirs["avg_premium"].quantize(Decimal("0.01"))


def grouped_claims(agency_id=None, every=False) -> dict[str, int]:
    rows = Claim.objects.all() if every else Claim.objects.filter(agency_id=agency_id)
    return dict(rows.order_by().values_list("status").annotate(n=Count("id")))


def assert_claim_counts(broker, staff):
    assert claim_status_counts(broker) == grouped_claims(broker.agency_id)
    assert claim_status_counts(staff) == grouped_claims(every=True)
    assert all(type(n) is int for n in claim_status_counts(staff).values())


def test_policy_totals_follow_every_kind_of_write(broker, other_agency, staff):
    today = timezone.localdate()
    mine = CustomerFactory(broker=broker.agency)
    theirs = CustomerFactory(broker=other_agency)
    home = PolicyFactory(customer=mine, policy_type="home", premium_amount=Decimal("100.10"))
    PolicyFactory(customer=mine, policy_type="auto", premium_amount=Decimal("250.00"))
    PolicyFactory(customer=theirs, policy_type="home", premium_amount=Decimal("75.00"))
    pending = PolicyFactory(customer=mine, policy_type="life", status=PolicyStatus.PENDING,
                            premium_amount=Decimal("33.33"),
                            start_date=today + datetime.timedelta(days=3),
                            end_date=today + datetime.timedelta(days=300))
    assert_summaries(broker, staff)
    assert [r["policy_type"] for r in policy_summary(user=broker)] == ["auto", "home"]

    # Cancelled, then reinstated (services).
    policy_services.policy_cancel(actor=staff, policy=home, reason="Customer asked")
    assert_summaries(broker, staff)
    assert [r["policy_type"] for r in policy_summary(user=broker)] == ["auto"]
    home.refresh_from_db()
    policy_services.policy_reinstate(actor=staff, policy=home, reason="Paid after all")
    assert_summaries(broker, staff)

    # A status moved by date (service), then what no service does but a bulk load or
    # an operator's SQL might: a premium changed in place, a bulk UPDATE.
    policy_services.policies_refresh_status(today=today + datetime.timedelta(days=5))
    assert Policy.objects.get(pk=pending.pk).status == PolicyStatus.ACTIVE
    assert_summaries(broker, staff)
    with disable_auditlog():
        Policy.objects.filter(pk=home.pk).update(premium_amount=Decimal("120.00"))
        assert_summaries(broker, staff)
        Policy.objects.filter(agency_id=other_agency.pk).update(status=PolicyStatus.EXPIRED)
        assert_summaries(broker, staff)

        # The customer moves agency: the policies' agency follows, so do the totals.
        Customer.objects.filter(pk=theirs.pk).update(broker=broker.agency)
        Policy.objects.filter(customer=theirs).update(agency_id=broker.agency_id,
                                                      status=PolicyStatus.ACTIVE)
        assert_summaries(broker, staff)

        # Bulk loads and deletes.
        Policy.objects.bulk_create([
            PolicyFactory.build(customer=mine, agency_id=broker.agency_id,
                                policy_type="health", premium_amount=Decimal("10.00"),
                                policy_number=f"BULK-{n}")
            for n in range(3)])
        assert_summaries(broker, staff)
        Policy.objects.filter(policy_type="health").delete()
        assert_summaries(broker, staff)
    assert PolicyTotal.objects.filter(agency_id=broker.agency_id, policy_type="health"
                                      ).exclude(policies=0).count() == 0
    # Every status is tallied, not only the active ones the summary reads.
    for status in PolicyStatus.values:
        assert tallies.count(policies_visible_to(staff).filter(status=status)) == \
            Policy.objects.filter(status=status).count()


def test_a_rolled_back_write_leaves_the_totals_as_they_were(broker, staff):
    PolicyFactory(customer=CustomerFactory(broker=broker.agency), premium_amount=Decimal("5"))
    before = policy_summary(user=broker)
    with pytest.raises(RuntimeError), transaction.atomic():
        PolicyFactory(customer=CustomerFactory(broker=broker.agency))
        raise RuntimeError
    assert policy_summary(user=broker) == before
    assert_summaries(broker, staff)


def test_claim_tally_follows_transitions_moves_and_deletes(broker, other_agency, staff):
    mine = PolicyFactory(customer=CustomerFactory(broker=broker.agency))
    claim = ClaimFactory(policy=mine)
    ClaimFactory(policy=mine)
    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))
    assert_claim_counts(broker, staff)
    assert claim_status_counts(broker) == {"pending": 2}

    claim_services.claim_transition(claim_id=claim.pk, to="processing", actor=staff)
    assert claim_status_counts(broker) == {"pending": 1, "processing": 1}
    assert_claim_counts(broker, staff)

    with disable_auditlog():
        Claim.objects.filter(agency_id=other_agency.pk).update(agency_id=broker.agency_id)
        assert claim_status_counts(broker) == {"pending": 2, "processing": 1}
        assert_claim_counts(broker, staff)
        Claim.objects.filter(pk=claim.pk).delete()
        assert_claim_counts(broker, staff)


def test_the_figures_are_read_from_the_tallies_not_the_rows(broker, staff):
    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=broker.agency)))
    for user in (broker, staff):
        with CaptureQueriesContext(connection) as ctx:
            policy_summary(user=user)
            claim_status_counts(user)
        sql = " ".join(q["sql"] for q in ctx.captured_queries)
        assert len(ctx.captured_queries) == 2
        assert '"policies_policytotal"' in sql and '"claims_claimtally"' in sql
        assert 'FROM "policies_policy"' not in sql and 'FROM "claims_claim"' not in sql


def test_a_key_is_summed_over_its_slots(broker, other_broker):
    """Writers add to their own slot; a reader sums them (and drops keys at zero)."""
    PolicyTotal.objects.bulk_create([
        PolicyTotal(agency_id=broker.agency_id, policy_type="auto", status="active",
                    slot=slot, policies=2, premium=Decimal("10.00")) for slot in range(SLOTS)])
    PolicyTotal.objects.create(agency_id=broker.agency_id, policy_type="life",
                               status="active", slot=1, policies=0, premium=Decimal("0.00"))
    PolicyTotal.objects.create(agency_id=broker.agency_id, policy_type="home",
                               status="pending", slot=1, policies=3, premium=Decimal("9.00"))
    assert policy_summary(user=broker) == [{
        "policy_type": "auto", "count": 2 * SLOTS, "total_premium": Decimal("10.00") * SLOTS,
        "avg_premium": Decimal("5")}]
    assert policy_summary(user=other_broker) == []


def test_nobody_sees_figures_when_signed_out_or_inactive(broker):
    from django.contrib.auth.models import AnonymousUser

    PolicyFactory(customer=CustomerFactory(broker=broker.agency))
    broker.is_active = False
    for user in (AnonymousUser(), broker, None):
        assert policy_summary(user=user) == []
        assert claim_status_counts(user) == {}


@pytest.mark.django_db(transaction=True)
def test_a_truncated_source_empties_its_tally(broker, staff):
    PolicyFactory(customer=CustomerFactory(broker=broker.agency))
    assert PolicyTotal.objects.exists()
    with disable_auditlog(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE policies_policy CASCADE")
    assert not PolicyTotal.objects.exists()
    assert policy_summary(user=staff) == []


def test_the_fill_recounts_from_the_rows(broker, staff):
    """What the migration runs after installing the trigger: the tally rebuilt from the
    rows, whatever it held."""
    PolicyFactory(customer=CustomerFactory(broker=broker.agency), premium_amount=Decimal("9"))
    with disable_auditlog():
        PolicyTotal.objects.update(policies=999)
    tally = Tally(table="policies_policytotal", source="policies_policy",
                  keys=("agency_id", "policy_type", "status"), count="policies",
                  sums=(("premium", "premium_amount"),))
    with connection.cursor() as cursor:
        for statement in tally.fill_sql():
            cursor.execute(statement)
    assert_summaries(broker, staff)
    assert set(PolicyTotal.objects.values_list("slot", flat=True)) == {0}


def test_a_list_filtered_by_tally_keys_alone_is_counted_from_the_tally(
        broker, other_agency, staff):
    mine = CustomerFactory(broker=broker.agency)
    CustomerFactory(broker=broker.agency)
    CustomerFactory(broker=other_agency)
    claim = ClaimFactory(policy=PolicyFactory(customer=mine))
    ClaimFactory(policy=PolicyFactory(customer=mine), status="processing")
    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=other_agency)))
    cases = [
        customers_visible_to(broker), customers_visible_to(staff),
        policies_visible_to(broker), policies_visible_to(broker).filter(status="active"),
        policies_visible_to(staff).filter(status="active", policy_type="auto"),
        claims_visible_to(broker), claims_visible_to(broker).filter(status="pending"),
        claims_visible_to(staff).filter(status="processing"),
        # As the lists read them: .values() over joins that only fetch.
        claims_visible_to(broker).values("id", "policy__customer__first_name"),
    ]
    for qs in cases:
        with CaptureQueriesContext(connection) as ctx:
            n = tallies.tallied(qs)
        assert n == qs.count() and type(n) is int, qs.query
        assert len(ctx.captured_queries) == 1
        assert "tally" in ctx.captured_queries[0]["sql"] or \
            "policytotal" in ctx.captured_queries[0]["sql"]
    assert tallies.count(claims_visible_to(broker)) == 2
    assert CustomerTally.objects.exists() and ClaimTally.objects.exists()
    assert claim.agency_id == broker.agency_id


def test_any_other_condition_is_counted_from_the_rows(broker, staff):
    policy = PolicyFactory(customer=CustomerFactory(broker=broker.agency))
    ClaimFactory(policy=policy)
    for qs in [
        claims_visible_to(broker).filter(policy_id=policy.pk),     # not a tally key
        claims_overdue(claims_visible_to(staff)),                  # a range
        claims_visible_to(broker).exclude(status="pending"),       # negated
        claims_visible_to(staff).filter(status__in=["pending"]),   # not an equality
        claims_visible_to(broker).filter(policy__customer__first_name="X"),  # a join
        claims_visible_to(broker)[:5],                             # sliced
        claims_visible_to(broker).distinct(),
        customers_visible_to(broker).filter(last_name="Smith"),
        claims_visible_to(broker).filter(status="pending").filter(status="approved"),
    ]:
        assert tallies.tallied(qs) is None, qs.query
    assert tallies.count(claims_visible_to(broker).filter(policy_id=policy.pk)) == 1
    assert tallies.tallied(Customer.objects.none()) is None


def test_the_api_writes_a_tallied_count_as_a_whole_number(broker_client, broker):
    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=broker.agency)))
    for path in ("/api/claims", "/api/customers", "/api/policies"):
        response = broker_client.get(path)
        assert b'"count":1,' in response.content, response.content[:80]


def test_rows_without_an_agency_share_one_tally_row_per_slot(staff):
    """Staff's own customers have no agency: their key holds NULL, and NULLs are one
    key here (the unique constraint treats them as equal), not a new row per write."""
    for _ in range(3):
        PolicyFactory(customer=CustomerFactory(broker=None), policy_type="home",
                      premium_amount=Decimal("10.00"))
    rows = PolicyTotal.objects.filter(agency__isnull=True, policy_type="home", status="active")
    assert rows.count() == 1
    assert rows.get().policies == 3
    assert policy_summary(user=staff) == grouped_summary(every=True)


def test_a_bulk_load_adds_to_each_key_once_per_statement(broker):
    """A statement's rows are tallied together (statement triggers over transition
    tables): 200 policies of one key cost one tally write, not 200 updates of one row
    (which, inside one transaction, leave a chain of versions each update walks)."""
    customer = CustomerFactory(broker=broker.agency)

    def tally_writes():
        with connection.cursor() as cursor:
            cursor.execute("SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables "
                           "WHERE relname = 'policies_policytotal'")
            return cursor.fetchone()[0]

    before = tally_writes()
    with disable_auditlog():
        Policy.objects.bulk_create([
            PolicyFactory.build(customer=customer, agency_id=broker.agency_id,
                                policy_type="auto", premium_amount=Decimal("1.00"),
                                policy_number=f"LOAD-{n}") for n in range(200)])
    assert tally_writes() - before == 1
    assert PolicyTotal.objects.filter(agency_id=broker.agency_id, policy_type="auto",
                                      status="active").get().policies == 200
    # An update that changes none of the tallied columns writes nothing to it.
    before = tally_writes()
    with disable_auditlog():
        Policy.objects.filter(customer=customer).update(updated_at=timezone.now())
    assert tally_writes() == before


TALLY_TABLES = ("customers_customertally", "claims_claimtally", "policies_policytotal")


def installed_slots(table: str) -> int:
    """The number of slots the database's trigger function for `table` writes over."""
    import re

    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [f"{table}_apply"])
        (source,) = cursor.fetchone()
    (found,) = set(re.findall(r"mod\(pg_backend_pid\(\), (\d+)\)", source))
    return int(found)


def test_every_tally_writes_over_its_slots_from_its_backend(agency):
    assert SLOTS == 16
    assert [installed_slots(table) for table in TALLY_TABLES] == [SLOTS] * 3
    CustomerFactory(broker=agency)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    assert list(CustomerTally.objects.filter(broker=agency).values_list("slot", "customers")
                ) == [(pid % SLOTS, 1)]


@pytest.mark.django_db(transaction=True)
def test_moving_to_more_slots_keeps_every_figure(broker, agency):
    """The migration to 16 slots changes the trigger functions only: rows written
    over 8 slots before it and over 16 after it add up, and it goes back."""
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    def figures():
        tallied = CustomerTally.objects.filter(broker=agency).aggregate(n=Sum("customers"))
        return (tallied["n"], claim_status_counts(broker), policy_summary(user=broker))

    def rows():
        claims = Claim.objects.filter(agency=agency).order_by().values_list("status")
        return (Customer.objects.filter(broker=agency).count(),
                dict(claims.annotate(n=Count("id"))), grouped_summary(agency.pk))

    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency),
                                      status=PolicyStatus.ACTIVE))
    before = [("customers", "0007_customer_tally"), ("claims", "0008_list_indexes"),
              ("policies", "0005_policy_totals")]
    try:
        MigrationExecutor(connection).migrate(before)
        assert [installed_slots(table) for table in TALLY_TABLES] == [8] * 3
        ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency),
                                          status=PolicyStatus.ACTIVE))
        assert figures() == rows()
    finally:
        call_command("migrate", verbosity=0)
    assert [installed_slots(table) for table in TALLY_TABLES] == [SLOTS] * 3
    ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency),
                                      status=PolicyStatus.ACTIVE))
    assert figures() == rows()
    assert figures()[0] == 3
