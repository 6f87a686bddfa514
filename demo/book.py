"""A synthetic demo book: agencies, logins, customers, policies, claims (with their
status history) and claim documents. Never real people: every name comes from a
short list, every email is under the reserved ``demo.example`` domain, phone
numbers are from ranges set aside for fiction (UK 07700 900xxx, 020 7946 0xxx,
US 555-01xx).

Fast enough for 100,000 customers: one factory function per model builds plain row
tuples from one seeded ``random.Random`` (same seed, same day: same book), and rows
go in with COPY on PostgreSQL (executemany elsewhere), in chunks, inside one
transaction. Values are still prepared by each model field (``get_db_prep_save``),
so personal data is encrypted per value exactly as the ORM would.

Bulk inserts bypass model signals, so the synthetic rows get no audit entry each:
one audit entry records the run and its counts.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
import random
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Agency, Role, User
from claims.models import (
    HANDLING_STATUSES,
    Claim,
    ClaimStatus,
    ClaimStatusChange,
    ClaimType,
    sla_due,
)
from customers.models import Customer
from documents.models import Document, DocumentType, document_storage
from policies.models import Policy, PolicyStatus, PolicyType, status_for_dates

STAFF_EMAIL = "staff@demo.example"
# The claims team: (e-mail, first name, last name, authority limit or None for the default).
HANDLERS = (
    ("senior@demo.example", "Sofia", "Senior", Decimal("100000.00")),
    ("adjuster@demo.example", "Alex", "Adjuster", Decimal("1000.00")),
)
BROKER_EMAIL = "broker@demo.example"
DEMO_DOMAIN = "demo.example"
# Local development only (DEBUG): anywhere else a random password is made and printed.
DEV_PASSWORD = "Demo!Passw0rd2026"

# Addresses under these can never belong to a real person (RFC 2606 / RFC 6761).
RESERVED_EMAIL_SUFFIXES = (
    ".example", ".test", ".invalid", ".localhost",
    "@example.com", ".example.com", "@example.net", ".example.net",
    "@example.org", ".example.org",
)

FIRST_NAMES = (
    "Ada", "Amara", "Bram", "Carmen", "Chloe", "Dev", "Elif", "Emeka", "Femi", "Freya",
    "Greta", "Hana", "Hugo", "Ines", "Ivan", "Jonas", "Kai", "Lena", "Luca", "Maya",
    "Mateo", "Nadia", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Sofia",
    "Tariq", "Uma", "Victor", "Wen", "Yara", "Zane", "Aiko", "Bruno", "Dara", "Nils",
)
LAST_NAMES = (
    "Archer", "Baker", "Castro", "Duval", "Eklund", "Fischer", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe",
    "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zimmer", "Novak",
    "Dubois", "Schmidt", "Costa", "Byrne", "Murphy", "Hansen", "Kaur", "Mensah", "Otieno",
)
STREETS = ("Harbour Road", "Mill Lane", "Station Street", "Orchard Way", "Quay Side",
           "Church Walk", "Elm Avenue", "Market Square", "Ferry Lane", "Kingfisher Close")
TOWNS = ("Sampleton", "Westbrook", "Northmere", "Eastleigh Vale", "Demoford", "Fictonbury")
AGENCY_WORDS = (("Harbour", "Meridian", "Oakline", "Northstar", "Bluewater", "Keystone",
                 "Summit", "Evergreen", "Lighthouse", "Granite", "Silverline", "Riverside"),
                ("Insurance Brokers", "Cover Partners", "Risk Advisors", "Assurance Group",
                 "Underwriting Agency", "Protection Services"))

_PREMIUM = {  # policy type: (premium range, coverage range)
    PolicyType.AUTO: ((300, 1_800), (5_000, 60_000)),
    PolicyType.HOME: ((150, 1_200), (100_000, 800_000)),
    PolicyType.LIFE: ((200, 3_000), (50_000, 1_000_000)),
    PolicyType.HEALTH: ((400, 5_000), (10_000, 250_000)),
}
_CLAIM_TYPES = {
    PolicyType.AUTO: (ClaimType.ACCIDENT, ClaimType.THEFT, ClaimType.DAMAGE),
    PolicyType.HOME: (ClaimType.THEFT, ClaimType.DAMAGE, ClaimType.FIRE, ClaimType.FLOOD),
    PolicyType.LIFE: (ClaimType.MEDICAL, ClaimType.ACCIDENT),
    PolicyType.HEALTH: (ClaimType.MEDICAL,),
}
_DESCRIPTIONS = {
    ClaimType.ACCIDENT: "Collision reported at a junction; third party details on file.",
    ClaimType.THEFT: "Items reported stolen; police reference requested.",
    ClaimType.DAMAGE: "Accidental damage; repair estimate to follow.",
    ClaimType.MEDICAL: "Treatment costs submitted for reimbursement.",
    ClaimType.FIRE: "Kitchen fire; smoke damage to two rooms.",
    ClaimType.FLOOD: "Ground floor water ingress after heavy rain.",
}
logger = logging.getLogger("insurance.demo")

_CHUNK = 5_000
_POLICY_TYPES = tuple(PolicyType.values)


@dataclass(frozen=True)
class BookSize:
    agencies: int = 3
    customers: int = 30
    policies_per_customer: float = 1.6
    claim_rate: float = 0.35
    document_rate: float = 0.5

    def validate(self) -> None:
        if not 1 <= self.agencies <= 1_000:
            raise ValueError("--agencies must be between 1 and 1000.")
        if not 0 <= self.customers <= 5_000_000:
            raise ValueError("--customers must be between 0 and 5,000,000.")
        if not 1 <= self.policies_per_customer <= 10:
            raise ValueError("--policies-per-customer must be between 1 and 10.")
        for name in ("claim_rate", "document_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"--{name.replace('_', '-')} must be between 0 and 1.")


@dataclass
class SeedResult:
    created: bool
    password: str | None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


class SeedRefused(Exception):
    """The database already holds customers that are not demo data."""


def demo_loaded() -> bool:
    return User.objects.filter(email=STAFF_EMAIL).exists()


def real_customers() -> models.QuerySet:
    """Customers whose email is not under a reserved (never real) domain."""
    reserved = Q()
    for suffix in RESERVED_EMAIL_SUFFIXES:
        reserved |= Q(email__iendswith=suffix)
    return Customer.objects.exclude(reserved)


def demo_password(given: str | None) -> str:
    if given:
        return given
    if settings.DEBUG:
        return DEV_PASSWORD
    # Meets the password policy: upper, lower, digit and a symbol, 12+ characters.
    return f"Demo!{secrets.token_urlsafe(12)}a9Z"


# --- writing rows -----------------------------------------------------------------


class RowWriter:
    """Inserts row tuples for a model: COPY on PostgreSQL, executemany elsewhere.

    Each value goes through its field's ``get_db_prep_save`` unless the field is one
    of Django's own on PostgreSQL (psycopg adapts those natively), so custom fields
    such as the encrypted ones prepare (encrypt) every value as in ``save()``.
    Concrete fields the caller does not fill get their (constant) default.
    """

    def __init__(self):
        self.copy = connection.vendor == "postgresql"

    def _plan(self, model, names: tuple[str, ...], prepared: frozenset[str]):
        given = [model._meta.get_field(name) for name in names]
        extra = []
        for f in model._meta.concrete_fields:
            if f in given or (f.primary_key and isinstance(f, models.AutoField)):
                continue
            if f.primary_key or (f.unique and not f.null):  # NULLs never clash
                raise RuntimeError(f"Seeding does not know how to fill {model.__name__}.{f.name}.")
            extra.append(f)
        fields = given + extra
        constants = [f.get_default() for f in extra]
        converters = []
        for f in fields:
            native = (self.copy and type(f).__module__.startswith("django.db.models")
                      and not isinstance(f, models.JSONField))
            converters.append(None if native or f.name in prepared else self._converter(f))
        return fields, constants, converters

    @staticmethod
    def _converter(f):
        def convert(value, _f=f):
            return _f.get_db_prep_save(value, connection)

        return convert

    def insert(self, model, names: tuple[str, ...], rows: Iterable[tuple],
               prepared: frozenset[str] = frozenset()) -> int:
        """Insert ``rows`` (values in ``names`` order); ``prepared`` names columns whose
        values are already prepared for the database."""
        fields, constants, converters = self._plan(model, names, prepared)
        pairs = list(enumerate(converters))
        plain = all(c is None for c in converters)
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in fields)
        count = 0
        prepared = (
            (tuple(row) + tuple(constants)) if plain else
            [c(v) if c else v for (_, c), v in zip(pairs, tuple(row) + tuple(constants))]
            for row in rows
        )
        if self.copy:
            connection.ensure_connection()
            from psycopg.copy import QueuedLibpqWriter

            with connection.connection.cursor() as cursor:
                # The queued writer sends from a thread: rows are formatted (and
                # encrypted) here while the server takes in the previous ones.
                sql = f"COPY {table} ({columns}) FROM STDIN"
                with cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy:
                    for values in prepared:
                        copy.write_row(values)
                        count += 1
            return count
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        batch: list = []
        with connection.cursor() as cursor:
            for values in prepared:
                batch.append(values)
                if len(batch) >= 2_000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        return count


# --- document bytes -----------------------------------------------------------------


def _png_bytes() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 48), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 56, 40), outline=(51, 65, 85), width=2)
    draw.line((8, 40, 28, 20, 40, 32, 56, 14), fill=(220, 38, 38), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _pdf_bytes() -> bytes:
    text = b"BT /F1 12 Tf 36 100 Td (Demo repair estimate - synthetic data) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 200] "
         b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


@dataclass(frozen=True)
class _Blob:
    data: bytes
    mime: str
    extension: str
    sha256: str

    @classmethod
    def of(cls, data: bytes, mime: str, extension: str) -> _Blob:
        return cls(data, mime, extension, hashlib.sha256(data).hexdigest())


# --- the book -----------------------------------------------------------------------


class DemoBook:
    """Builds the rows of one book from a seed. Each ``*_row`` method is the factory of
    one model: it draws from the shared generator, so the order of calls is the book."""

    def __init__(self, *, seed: int, size: BookSize, today: datetime.date):
        self.rng = random.Random(seed)
        self.seed = seed
        self.size = size
        self.today = today
        self.tz = timezone.get_current_timezone()
        self.taken_policy_numbers: set[str] = set()
        self.taken_claim_numbers: set[str] = set()
        self._policy_seq = 0
        self._claim_seq = 0
        self._number_salt = self.rng.getrandbits(32)
        self.now = timezone.now()
        # Who handles which claim: drawn from its own generator, so the rest of the
        # book stays what it was for a seed.
        self.handling_rng = random.Random(seed + 1)
        self.handler_ids: list = []
        self.premium_floor = {kind: int(Decimal(settings.MIN_PREMIUM[kind]).to_integral_value())
                              + 1 for kind in _POLICY_TYPES}

    # small helpers
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self, day: datetime.date) -> datetime.datetime:
        seconds = self.rng.randint(8 * 3600, 18 * 3600)
        return datetime.datetime.combine(day, datetime.time(), self.tz) + datetime.timedelta(
            seconds=seconds)

    def money(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randint(low * 100, high * 100)) / 100

    def _scramble(self, n: int, bits: int) -> int:
        # An odd multiplier makes n -> n * k + salt a bijection modulo 2**bits: unique
        # numbers for unique n, without looking sequential.
        mask = (1 << bits) - 1
        return (n * 0x9E3779B1 + self._number_salt) & mask

    def policy_number(self) -> str:
        while True:
            self._policy_seq += 1
            number = f"POL-{self._scramble(self._policy_seq, 32):08X}"
            if number not in self.taken_policy_numbers:
                return number

    def claim_number(self, reported: datetime.date) -> str:
        while True:
            self._claim_seq += 1
            number = f"CLM-{reported:%Y%m}-{self._scramble(self._claim_seq, 24):06X}"
            if number not in self.taken_claim_numbers:
                return number

    # factories
    def agency_names(self) -> list[str]:
        firsts, seconds = AGENCY_WORDS
        names = [f"{a} {b}" for b in seconds for a in firsts]
        self.rng.shuffle(names)
        wanted = self.size.agencies
        out = names[:wanted]
        for n in range(len(out), wanted):
            out.append(f"{names[n % len(names)]} {n // len(names) + 1}")
        return out

    def customer_row(self, n: int, agency_id, broker_user_id) -> tuple:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        created = self.moment(self.today - datetime.timedelta(days=rng.randint(30, 5 * 365)))
        roll = rng.random()
        if roll < 0.45:
            phone = f"+447700900{rng.randint(0, 999):03d}"
        elif roll < 0.75:
            phone = f"+44207946{rng.randint(0, 999):04d}"
        elif roll < 0.9:
            phone = f"+1{rng.choice(('202', '312', '415', '617'))}55501{rng.randint(0, 99):02d}"
        else:
            phone = None
        birth = datetime.date(rng.randint(1942, 2004), rng.randint(1, 12), rng.randint(1, 28))
        address = None if rng.random() < 0.05 else (
            f"{rng.randint(1, 240)} {rng.choice(STREETS)}, {rng.choice(TOWNS)}")
        return (
            self.uuid(), f"{first}.{last}.{n}@{DEMO_DOMAIN}".lower(), first, last, phone,
            birth, address, True, created, agency_id, broker_user_id, None, created, created,
        )

    CUSTOMER_FIELDS = ("id", "email", "first_name", "last_name", "phone", "date_of_birth",
                       "address", "gdpr_consent", "gdpr_consent_date", "broker", "created_by",
                       "erased_at", "created_at", "updated_at")

    def policy_row(self, customer_id, customer_since: datetime.datetime, agency_id) -> tuple:
        rng = self.rng
        kind = rng.choice(_POLICY_TYPES)
        (p_low, p_high), (c_low, c_high) = _PREMIUM[kind]
        floor = self.premium_floor[kind]
        premium = self.money(max(p_low, floor), max(p_high, floor + 1))
        coverage = Decimal(rng.randint(c_low // 1000, c_high // 1000) * 1000)
        since = customer_since.date()
        start = since + datetime.timedelta(days=rng.randint(0, max(0, (self.today - since).days)))
        if rng.random() < 0.06:  # renewals bought ahead
            start = self.today + datetime.timedelta(days=rng.randint(1, 60))
        end = start + datetime.timedelta(days=rng.choice((365, 365, 365, 182, 730)))
        status = status_for_dates(start, end, self.today)
        cancelled_at, reason = None, ""
        if status != PolicyStatus.EXPIRED and start < self.today and rng.random() < 0.05:
            status = PolicyStatus.CANCELLED
            cancelled_at = self.moment(
                start + datetime.timedelta(days=rng.randint(0, (self.today - start).days)))
            reason = rng.choice(("Vehicle sold.", "Moved abroad.", "Cover found elsewhere.",
                                 "Customer request."))
        created = min(self.moment(min(start, self.today)), self.now)
        created = max(created, customer_since)
        return (self.uuid(), self.policy_number(), customer_id, kind, premium, coverage, start,
                end, status, cancelled_at, reason, created, cancelled_at or created, agency_id)

    POLICY_FIELDS = ("id", "policy_number", "customer", "policy_type", "premium_amount",
                     "coverage_amount", "start_date", "end_date", "status", "cancelled_at",
                     "cancellation_reason", "created_at", "updated_at", "agency")

    def claim_rows(self, policy: tuple, reporter_id, staff_id):
        """A claim on a started policy, with its status history rows."""
        rng = self.rng
        policy_id, kind, coverage = policy[0], policy[3], policy[5]
        start, end = policy[6], policy[7]
        cancelled_at = policy[9]
        latest = min(end, self.today)
        if cancelled_at is not None:
            latest = min(latest, timezone.localtime(cancelled_at).date() -
                         datetime.timedelta(days=1))
        if latest < start:
            return None, []
        incident = start + datetime.timedelta(days=rng.randint(0, (latest - start).days))
        reported = min(incident + datetime.timedelta(days=rng.randint(0, 14)), self.today)
        claim_type = rng.choice(_CLAIM_TYPES[kind])
        amount = min(coverage, self.money(80, max(100, int(coverage * Decimal("0.3")))))
        age = (self.today - reported).days
        roll = rng.random()
        if age < 7:
            path = () if roll < 0.6 else (ClaimStatus.PROCESSING,)
        elif age < 45:
            path = ((), (ClaimStatus.PROCESSING,), (ClaimStatus.PROCESSING, ClaimStatus.APPROVED),
                    (ClaimStatus.DENIED,))[int(roll * 4)]
        else:
            path = ((ClaimStatus.PROCESSING, ClaimStatus.APPROVED),) * 6 + (
                (ClaimStatus.PROCESSING, ClaimStatus.DENIED), (ClaimStatus.DENIED,),
                (ClaimStatus.PROCESSING,))
            path = path[int(roll * len(path))]
        created = min(self.moment(reported), self.now)
        claim_id = self.uuid()
        changes, previous, moment = [], ClaimStatus.PENDING, created
        for to in path:
            moment = min(moment + datetime.timedelta(hours=rng.randint(4, 24 * 12)), self.now)
            changes.append((claim_id, previous, to, staff_id, moment))
            previous = to
        status = path[-1] if path else ClaimStatus.PENDING
        processed = moment if status in (ClaimStatus.APPROVED, ClaimStatus.DENIED) else None
        assignee = None
        if self.handler_ids and status in HANDLING_STATUSES:
            pick = self.handling_rng.randrange(len(self.handler_ids) + 1)
            assignee = self.handler_ids[pick] if pick < len(self.handler_ids) else None
        claim = (claim_id, self.claim_number(reported), policy_id, claim_type, amount,
                 _DESCRIPTIONS[claim_type], incident, status, reported, processed, reporter_id,
                 created, moment, moment, sla_due(status, moment), assignee, policy[-1])
        return claim, changes

    def document_rows(self, claim: tuple, uploader_id, *, png: _Blob, pdf: _Blob,
                      files) -> list[tuple]:
        """One or two documents for a claim; their bytes go to ``files``."""
        rng = self.rng
        first = ((DocumentType.MEDICAL_REPORT, pdf) if claim[3] == ClaimType.MEDICAL
                 else (DocumentType.PHOTO, png))
        more = ((DocumentType.ESTIMATE, pdf), (DocumentType.INVOICE, pdf),
                (DocumentType.POLICE_REPORT, pdf), (DocumentType.PHOTO, png))
        rows = []
        for k in range(1 + (rng.random() < 0.3)):
            doc_type, blob = more[rng.randrange(len(more))] if k else first
            doc_id = self.uuid()
            name = f"{claim[0]}/{doc_id.hex}{blob.extension}"
            files.add(name, blob.data)
            rows.append((doc_id, claim[0], name, f"{doc_type}-{k + 1}{blob.extension}",
                         blob.mime, len(blob.data), doc_type, blob.sha256, uploader_id,
                         claim[11] + datetime.timedelta(minutes=5 + k), claim[-1]))
        return rows

    CLAIM_FIELDS = ("id", "claim_number", "policy", "claim_type", "claim_amount", "description",
                    "incident_date", "status", "reported_date", "processed_date", "reported_by",
                    "created_at", "updated_at", "status_since", "sla_due_at", "assignee",
                    "agency")
    CHANGE_FIELDS = ("claim", "from_status", "to_status", "actor", "changed_at")
    DOCUMENT_FIELDS = ("id", "claim", "file", "filename", "mime_type", "size", "document_type",
                       "sha256", "uploaded_by", "uploaded_at", "agency")


# --- the run ------------------------------------------------------------------------


def seed(*, seed: int = 2026, size: BookSize | None = None, password: str | None = None,
         force: bool = False, today: datetime.date | None = None, progress=None) -> SeedResult:
    """Load the demo book once. Returns created=False when it is already loaded."""
    size = size or BookSize()
    size.validate()
    if demo_loaded():
        return SeedResult(created=False, password=None)
    if not force and real_customers().exists():
        raise SeedRefused(
            "This database holds customers that are not demo data; refusing to add a demo "
            "book to it (use --force to do it anyway).")
    from auditlog.context import disable_auditlog

    password = demo_password(password)
    started = time.perf_counter()
    with disable_auditlog(), transaction.atomic():
        result = _load(seed=seed, size=size, password=password,
                       today=today or timezone.localdate(), progress=progress or (lambda _: None))
        committing = time.perf_counter()
    result.timings["commit"] = time.perf_counter() - committing
    result.seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # VACUUM as well when it may run (outside a transaction): it marks the new pages
        # all-visible, so counts and lists of the fresh book are index-only scans from
        # the start, as on a database autovacuum has been through.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        t = time.perf_counter()
        with connection.cursor() as cursor:
            for model in (Customer, Policy, Claim, ClaimStatusChange, Document):
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        result.timings["vacuum_analyze" if command != "ANALYZE" else "analyze"] = (
            time.perf_counter() - t)
    return result


def _load(*, seed, size, password, today, progress) -> SeedResult:
    timings: dict[str, float] = {}
    t = time.perf_counter()
    book = DemoBook(seed=seed, size=size, today=today)
    writer = RowWriter()
    counts = dict.fromkeys(("agencies", "users", "customers", "policies", "claims",
                            "claim_status_changes", "documents"), 0)
    if Policy.objects.exists():
        book.taken_policy_numbers = set(Policy.objects.values_list("policy_number", flat=True))
    if Claim.objects.exists():
        book.taken_claim_numbers = set(Claim.objects.values_list("claim_number", flat=True))

    # Agencies and logins: the two printed logins go through the account service (its
    # validation and password policy); further brokers share their password hash.
    names = book.agency_names()
    staff = account_services.user_create(
        email=STAFF_EMAIL, password=password, role=Role.STAFF,
        first_name="Sam", last_name="Handler")
    handlers = [staff] + [
        account_services.user_create(email=email, password=password, role=Role.STAFF,
                                     first_name=first, last_name=last)
        for email, first, last, _ in HANDLERS]
    for handler, (_, _, _, limit) in zip(handlers[1:], HANDLERS):
        handler.authority_limit = limit
        handler.save(update_fields=["authority_limit"])
    book.handler_ids = [h.pk for h in handlers]
    first_broker = account_services.user_create(
        email=BROKER_EMAIL, password=password, role=Role.BROKER, agency_name=names[0])
    existing = {a.name.lower(): a for a in Agency.objects.all()}
    agencies, new_agencies = [first_broker.agency], []
    for name in names[1:]:
        agency = existing.get(name.lower())
        if agency is None:
            agency = Agency(id=book.uuid(), name=name)
            new_agencies.append(agency)
        agencies.append(agency)
    Agency.objects.bulk_create(new_agencies)
    brokers = [first_broker] + [
        User(id=book.uuid(), email=f"broker{n + 2}@{DEMO_DOMAIN}", role=Role.BROKER,
             agency=agency, password=first_broker.password)
        for n, agency in enumerate(agencies[1:])
    ]
    User.objects.bulk_create(brokers[1:])
    counts["agencies"] = len(agencies)
    counts["users"] = len(brokers) + len(handlers)
    timings["logins"] = time.perf_counter() - t
    t = time.perf_counter()

    png = _Blob.of(_png_bytes(), "image/png", ".png")
    pdf = _Blob.of(_pdf_bytes(), "application/pdf", ".pdf")
    workers = _Workers()
    files = _FileWriter(document_storage(), workers)
    ready = None  # the previous chunk: inserted once its personal data is encrypted

    def insert(chunk):
        customers, policies, claims, changes, documents, encrypted = chunk
        customers = [row[:4] + values + row[7:]
                     for row, values in zip(customers, encrypted.result())]
        counts["customers"] += writer.insert(Customer, book.CUSTOMER_FIELDS, customers,
                                             prepared=_PII_FIELDS)
        counts["policies"] += writer.insert(Policy, book.POLICY_FIELDS, policies)
        counts["claims"] += writer.insert(Claim, book.CLAIM_FIELDS, claims)
        counts["claim_status_changes"] += writer.insert(
            ClaimStatusChange, book.CHANGE_FIELDS, changes)
        counts["documents"] += writer.insert(Document, book.DOCUMENT_FIELDS, documents)

    try:
        done = 0
        while done < size.customers:
            chunk = min(_CHUNK, size.customers - done)
            customers, policies, claims, changes, documents = [], [], [], [], []
            for n in range(done, done + chunk):
                broker = brokers[book.rng.randrange(len(brokers))]
                customer = book.customer_row(n, broker.agency_id, broker.pk)
                customers.append(customer)
                mean = size.policies_per_customer
                count = max(1, round(book.rng.uniform(1, 2 * mean - 1)))
                for _ in range(count):
                    policy = book.policy_row(customer[0], customer[8], broker.agency_id)
                    policies.append(policy)
                    if policy[6] > today or book.rng.random() >= size.claim_rate:
                        continue
                    claim, history = book.claim_rows(policy, broker.pk, staff.pk)
                    if claim is None:
                        continue
                    claims.append(claim)
                    changes += history
                    if book.rng.random() < size.document_rate:
                        documents += book.document_rows(claim, broker.pk, png=png, pdf=pdf,
                                                        files=files)
            files.flush()
            encrypted = workers.submit(_encrypt_pii, [row[4:7] for row in customers])
            if ready is not None:
                insert(ready)
            ready = (customers, policies, claims, changes, documents, encrypted)
            done += chunk
            progress(done)
        if ready is not None:
            insert(ready)
        timings["rows"] = time.perf_counter() - t
        t = time.perf_counter()
        counts.update(_handling(handlers, broker=first_broker))
        timings["handling"] = time.perf_counter() - t
        t = time.perf_counter()
        files.finish()
        timings["document_files_wait"] = time.perf_counter() - t
        t = time.perf_counter()
        counts.update(_underwriting(book, broker=first_broker, today=today))
        timings["underwriting"] = time.perf_counter() - t
        _audit(seed=seed, size=size, counts=counts, actor=None)
    except BaseException:
        files.abort()  # the rows roll back: take their bytes out too
        raise
    finally:
        workers.close()
    return SeedResult(created=True, password=password, counts=counts, timings=timings)


_PII_FIELDS = frozenset({"phone", "date_of_birth", "address"})

# (policy type, coverage, risk answers) the demo quotes are made of.
_DEMO_RISKS = (
    ("auto", Decimal("20000"), {"vehicle_value": "24000", "annual_mileage": 9000,
                                "prior_claims": 0}),
    ("home", Decimal("350000"), {"rebuild_value": "320000", "construction": "masonry",
                                 "flood_zone": False}),
    ("life", Decimal("250000"), {"smoker": False}),
    ("health", Decimal("50000"), {"smoker": True, "deductible": "1000"}),
)


def _underwriting(book: DemoBook, *, broker, today: datetime.date) -> dict[str, int]:
    """The underwriting lifecycle on the first agency's book, through the services:
    quotes in every status, bound and endorsed policies, renewals due (quoted by
    renew_policies, and some further out for the 60/90-day lists)."""
    from policies import services as uw
    from policies.models import Endorsement, Quote

    day = datetime.timedelta(days=1)
    customers = [c for c in Customer.objects.filter(broker_id=broker.agency_id,
                                                    erased_at__isnull=True).order_by("id")[:40]
                 if c.date_of_birth is not None][:12]
    if len(customers) < 6:
        return {"quotes": 0, "endorsements": 0}

    def quote(customer, n, *, start, on, declined=False):
        kind, coverage, risk = _DEMO_RISKS[n % len(_DEMO_RISKS)]
        if declined:
            kind, coverage, risk = "auto", Decimal("20000"), {
                "vehicle_value": "30000", "annual_mileage": 12000, "prior_claims": 5}
        return uw.quote_create(actor=broker, customer_id=customer.pk, policy_type=kind,
                               coverage_amount=coverage, start_date=start, risk=risk, today=on)

    def bound(customer, n, *, start):
        made = quote(customer, n, start=start, on=start)
        if made.status != "open":  # outside the plan's appetite (the customer's age)
            return None
        return uw.quote_bind(actor=broker, quote=made, today=start,
                             policy_numbers=book.policy_number)

    for n, customer in enumerate(customers[:4]):  # open, one per product
        quote(customer, n, start=today + (n + 3) * day, on=today)
    quote(customers[4], 0, start=today + 5 * day, on=today, declined=True)
    quote(customers[5], 1, start=today - 10 * day, on=today - 45 * day)  # lapses below
    uw.quotes_expire(today=today)
    for n, customer in enumerate(customers[:4]):  # bound this month, two endorsed
        policy = bound(customer, n, start=today - (n + 2) * day)
        if policy is not None and n < 2:
            uw.endorsement_create(actor=broker, policy=policy, effective_date=today,
                                  reason="Cover raised at the customer's request",
                                  coverage_amount=policy.coverage_amount * Decimal("1.25"),
                                  today=today)
    for n, customer in enumerate(customers[4:10]):  # ending within 15 .. 75 days
        ends = today + (15 + 12 * n) * day
        bound(customer, n, start=ends - 364 * day)
    uw.renew_policies(actor=None, days=30, today=today)
    return {"quotes": Quote.objects.filter(customer__in=customers).count(),
            "endorsements": Endorsement.objects.filter(
                policy__customer__in=customers).count()}


def _encrypt_pii(rows: list[tuple]) -> list[tuple]:
    """Each value prepared (encrypted) by its own model field, as ``save()`` would."""
    fields = [Customer._meta.get_field(name) for name in ("phone", "date_of_birth", "address")]
    return [tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row))
            for row in rows]


class _Workers:
    """Two forked worker processes for the CPU- and IO-heavy parts (encryption, file
    writes), so they run beside the row builder and the database instead of taking
    turns with it; in-process where fork is not available."""

    def __init__(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = None
        if "fork" in multiprocessing.get_all_start_methods():
            self.pool = ProcessPoolExecutor(
                max_workers=2, mp_context=multiprocessing.get_context("fork"))
            # Fork now, before a COPY writer thread exists.
            list(self.pool.map(int, range(2)))

    def submit(self, fn, *args):
        if self.pool is None:
            return _done(fn(*args))
        return self.pool.submit(fn, *args)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _save_files(items: list[tuple[str, bytes]]) -> list[str]:
    storage = document_storage()
    return [storage.save(name, ContentFile(data, name=name)) for name, data in items]


RENAME_BATCH = 1000


class _FileWriter:
    """Stores document bytes through the storage API, a chunk at a time in a worker
    process; ``finish`` waits and fixes any name the storage changed."""

    def __init__(self, storage, workers: _Workers):
        self.storage = storage
        self.workers = workers
        self.batch: list[tuple[str, bytes]] = []
        self.pending: list[tuple[list[str], object]] = []

    def add(self, name: str, data: bytes) -> None:
        self.batch.append((name, data))

    def flush(self) -> None:
        if self.batch:
            items, self.batch = self.batch, []
            self.pending.append(([name for name, _ in items],
                                 self.workers.submit(_save_files, items)))

    def finish(self) -> None:
        self.flush()
        renamed = {}
        for wanted_names, future in self.pending:
            for wanted, saved in zip(wanted_names, future.result()):
                if saved != wanted:
                    renamed[wanted] = saved
        # A storage already holding these names (a second seed into the same files)
        # renames every one: the documents are found a thousand names per read (the
        # column has no index) and updated by primary key.
        names = list(renamed)
        for start in range(0, len(names), RENAME_BATCH):
            found = Document.objects.filter(file__in=names[start:start + RENAME_BATCH])
            for pk, name in found.values_list("pk", "file"):
                Document.objects.filter(pk=pk).update(file=renamed[name])

    def abort(self) -> None:
        self.batch = []
        for names, future in self.pending:
            try:
                future.result()
            except Exception:  # noqa: BLE001
                logger.warning("seed_demo.files_failed", extra={"event": "seed_demo.files_failed"})
            for name in names:
                try:
                    self.storage.delete(name)
                except Exception:  # noqa: BLE001 - best effort, the original error matters
                    logger.warning("seed_demo.file_cleanup_failed",
                                   extra={"event": "seed_demo.file_cleanup_failed"})


def _handling(handlers: list, *, broker) -> dict[str, int]:
    """Claims work on a few claims, through the claims services (their rules hold):
    reserves, notes both ways, payments (one final), and one approval waiting for a
    second person."""
    from claims import services as claims_services
    from claims.models import ClaimApproval

    lead, senior, adjuster = handlers
    notes = reserves = payments = 0
    approved = list(Claim.objects.filter(status=ClaimStatus.APPROVED)
                    .select_related("policy").order_by("claim_number")[:8])
    for n, claim in enumerate(approved):
        reserve = min(claim.claim_amount, claim.policy.coverage_amount)
        claims_services.reserve_set(claim_id=claim.pk, actor=senior, amount=reserve,
                                    reason="Initial estimate from the adjuster's report")
        reserves += 1
        claims_services.note_create(
            claim_id=claim.pk, actor=senior, visibility="internal",
            text="Checked the policy wording and the estimate; nothing unusual.")
        claims_services.note_create(
            claim_id=claim.pk, actor=senior, visibility="shared",
            text="Approved: the first payment is on its way.")
        notes += 2
        first = (claim.claim_amount / 2).quantize(Decimal("0.01"))
        claims_services.payment_make(claim_id=claim.pk, actor=senior, amount=first,
                                     payee="Policyholder", final=n % 3 == 0)
        payments += 1
    processing = list(Claim.objects.filter(status=ClaimStatus.PROCESSING, claim_amount__gt=1000,
                                           policy__customer__broker=broker.agency_id)
                      .order_by("claim_number")[:3])
    for claim in processing:
        claims_services.note_create(claim_id=claim.pk, actor=broker, visibility="shared",
                                    text="The repair estimate is attached; can you confirm "
                                         "the next step?")
        notes += 1
    if processing:  # above the adjuster's limit: waits for a second person
        claims_services.claim_assign(claim_id=processing[0].pk, assignee_id=adjuster.pk,
                                     actor=lead)
        claims_services.claim_transition(claim_id=processing[0].pk, to=ClaimStatus.APPROVED,
                                         actor=adjuster)
    return {"claim_notes": notes, "reserve_changes": reserves, "claim_payments": payments,
            "approval waiting for a second person":
                ClaimApproval.objects.filter(status="pending").count()}


def _done(value):
    from concurrent.futures import Future

    future = Future()
    future.set_result(value)
    return future


def _audit(*, seed: int, size: BookSize, counts: dict[str, int], actor) -> None:
    """One audit entry for the whole run, through auditlog's (possibly swapped) entry
    model: a bulk operation on customers when the model knows that action."""
    from auditlog import get_logentry_model

    LogEntry = get_logentry_model()
    action = getattr(LogEntry.Action, "BULK", LogEntry.Action.CREATE)
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Customer),
        object_pk="",
        object_repr=f"demo book loaded by seed_demo (seed {seed})",
        action=action,
        actor=actor,
        additional_data={"operation": "seed_demo", "seed": seed, "counts": counts,
                         "size": dict(size.__dict__)},
    )
