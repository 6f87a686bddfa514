"""What the trust-boundary checks cost per request: document structure checks and
the bounded JSON parse. No database.

Usage:
    .venv/bin/python bench/trust_checks.py

Prints the best of a few runs, in milliseconds, of: a PDF checked for active
content (one page; 2,000 pages), a DOCX checked member by member (plain; 8 MiB of
media), a DOC compound file, and a 2 MB JSON body parsed with the depth check
against json.loads alone.
"""

import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("TESTING", "true")  # development keys; nothing is stored


def best_ms(fn, runs=5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main():
    import django

    django.setup()
    from core import parsers
    from documents import structure
    from tests.documents import files

    pages = 2000
    many_pages = files.build_pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>",
         b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
         + b"] /Count %d >>" % pages]
        + [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [] >>"] * pages)
    media = files.docx_with({f"word/media/image{i}.png": bytes(range(256)) * 4096
                             for i in range(8)})
    body = json.dumps([{"a": i, "b": [i, i]} for i in range(60000)]).encode()
    text = body.decode()
    rows = [
        ("PDF, 1 page", lambda: structure.check_pdf(io.BytesIO(files.pdf()))),
        (f"PDF, {pages} pages ({len(many_pages) // 1024} KiB)",
         lambda: structure.check_pdf(io.BytesIO(many_pages))),
        ("DOCX, plain", lambda: structure.check_docx(io.BytesIO(files.docx()))),
        (f"DOCX, 8 MiB of media ({len(media) // 1024} KiB packed)",
         lambda: structure.check_docx(io.BytesIO(media))),
        ("DOC", lambda: structure.check_doc(io.BytesIO(files.word_97_doc()))),
        (f"JSON {len(body) // 1024} KiB: json.loads alone", lambda: json.loads(text)),
        (f"JSON {len(body) // 1024} KiB: depth check alone", lambda: parsers.too_deep(text)),
        (f"JSON {len(body) // 1024} KiB: bounded parse", lambda: parsers.loads(body)),
    ]
    for label, fn in rows:
        print(f"{label:45s} {best_ms(fn):8.1f} ms")


if __name__ == "__main__":
    main()
