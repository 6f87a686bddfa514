"""Plant recognisable personal data, then look for it in every table and file."""

import datetime
import os

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from tests.documents.files import build_pdf

CANARY = {
    "email": "zebulon.canary@quixotic-mail.test",
    "first_name": "Zebulon",
    "last_name": "Quixoticus",
    "phone": "+15557771234",
    "date_of_birth": datetime.date(1971, 7, 19),
    "address": "42 Canarywharf Lane, Quillby",
}
CANARY_STRINGS = ["zebulon", "quixotic", "5557771234", "1971-07-19", "canarywharf"]
PDF = build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"],
                comment=b"Zebulon Quixoticus, 42 Canarywharf Lane")


def canary_pdf(name="Quixoticus-invoice.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def database_text() -> dict[str, str]:
    """Every row of every table, as text (a dump of the database)."""
    out = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            out[table] = "\n".join(repr(row) for row in cursor.fetchall()).lower()
    return out


def found_in_database(needles=CANARY_STRINGS) -> list[tuple[str, str]]:
    hits = []
    for table, text in database_text().items():
        hits += [(table, n) for n in needles if n.lower() in text]
    return hits


def storage_files() -> list[str]:
    root = str(settings.MEDIA_ROOT)
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


def found_in_storage(needles=CANARY_STRINGS) -> list[str]:
    hits = []
    for path in storage_files():
        with open(path, "rb") as handle:
            data = handle.read().lower()
        hits += [path for n in needles if n.lower().encode() in data]
        hits += [path for n in needles if n.lower() in path.lower()]
    return hits
