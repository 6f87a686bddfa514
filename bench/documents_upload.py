"""How much memory and time a document upload takes, through the real ASGI handler.

The request body is fed to Django in 64 KiB chunks produced on the fly, so the
figures show what the server itself holds during one request: the wall time,
the peak of Python allocations (tracemalloc) and the peak growth of the
resident set.

    .venv/bin/python bench/documents_upload.py

Uses DATABASE_URL when set, else a throw-away SQLite file; documents go to a
temporary folder.
"""

import asyncio
import gc
import io
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.mkdtemp(prefix="bench-documents-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ["MEDIA_ROOT"] = f"{_tmp}/documents"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TESTING", "true")  # development keys, no HTTPS redirect
os.environ.setdefault("THROTTLE_USER", "100000/minute")

import django

django.setup()

from django.core.handlers.asgi import ASGIHandler
from django.core.management import call_command
from PIL import Image
from rest_framework_simplejwt.tokens import RefreshToken

MiB = 1024 * 1024
CHUNK = 64 * 1024
BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"


def _setup():
    call_command("migrate", verbosity=0, interactive=False)
    from tests.factories import (
        AgencyFactory,
        ClaimFactory,
        CustomerFactory,
        PolicyFactory,
        UserFactory,
    )

    agency = AgencyFactory()
    broker = UserFactory(agency=agency)
    claim = ClaimFactory(policy=PolicyFactory(customer=CustomerFactory(broker=agency)))
    return str(RefreshToken.for_user(broker).access_token), claim


def _parts(head: bytes, filler_size: int, name: str):
    """The multipart body as a generator of chunks, plus its total length."""
    pre = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\n"
           f"other\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    post = f"\r\n--{BOUNDARY}--\r\n".encode()
    total = len(pre) + len(head) + filler_size + len(post)

    def gen():
        yield pre + head
        left = filler_size
        block = b"0123456789abcdef" * (CHUNK // 16)
        while left > 0:
            piece = block[: min(CHUNK, left)]
            left -= len(piece)
            yield piece
        yield post

    return gen, total


async def _post(app, path, token, gen, total, declared=True):
    headers = [(b"authorization", f"Bearer {token}".encode()),
               (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
               (b"host", b"testserver")]
    if declared:
        headers.append((b"content-length", str(total).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    chunks = gen()
    status = {}
    finished = asyncio.Event()
    body_done = False

    async def receive():
        nonlocal body_done
        if body_done:
            await finished.wait()
            return {"type": "http.disconnect"}
        try:
            return {"type": "http.request", "body": next(chunks), "more_body": True}
        except StopIteration:
            body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            status["code"] = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    await app(scope, receive, send)
    return status.get("code")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _measure(label, app, path, token, gen, total):
    """Wall time, peak Python allocations, and the peak growth of the resident
    set over the request (sampled every millisecond; Pillow's pixel buffers are
    not Python allocations and show only there)."""
    gc.collect()
    baseline = _rss()
    peak_rss = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak_rss[0] = max(peak_rss[0], _rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    code = asyncio.run(_post(app, path, token, gen, total))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    done.set()
    sampler.join()
    print(f"{label:<44} {code:>4} {total / MiB:7.2f} MiB body {elapsed * 1000:7.1f} ms  "
          f"py-peak {peak / MiB:6.2f} MiB  rss-growth {(peak_rss[0] - baseline) / MiB:6.1f} MiB")


def main():
    from django.conf import settings

    token, claim = _setup()
    app = ASGIHandler()
    path = f"/api/claims/{claim.pk}/documents"
    pdf_head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%"
    limit = settings.DOCUMENT_MAX_BYTES
    print(f"DOCUMENT_MAX_BYTES = {limit} ({limit / MiB:.0f} MiB), "
          f"FILE_UPLOAD_MAX_MEMORY_SIZE = {settings.FILE_UPLOAD_MAX_MEMORY_SIZE / MiB:.1f} MiB")

    gen, total = _parts(pdf_head, 9 * MiB, "report.pdf")
    _measure("PDF 9 MiB, accepted", app, path, token, gen, total)

    gen, total = _parts(pdf_head, limit - len(pdf_head), "limit.pdf")
    _measure("PDF exactly at the limit, accepted", app, path, token, gen, total)

    gen, total = _parts(pdf_head, limit + 1024, "over.pdf")
    _measure("PDF limit + 1 KiB, 413 while streaming", app, path, token, gen, total)

    gen, total = _parts(pdf_head, 200 * MiB, "huge.pdf")
    _measure("PDF 200 MiB, 413 on Content-Length", app, path, token, gen, total)

    images = []
    for size in ((4000, 3000), (8000, 6000)):
        buf = io.BytesIO()
        noise = Image.effect_noise((size[0] // 8, size[1] // 8), 40).resize(size)
        img = Image.merge("RGB", (noise, Image.linear_gradient("L").resize(size), noise))
        img.save(buf, "JPEG", quality=85)
        images.append((f"JPEG {size[0]}x{size[1]} re-encoded into 1920x1080", buf.getvalue(),
                       "photo.jpg"))
        del img, noise
    buf = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 10, 10)).save(buf, "PNG")
    images.append(("PNG 4000x3000 re-encoded into 1920x1080", buf.getvalue(), "scan.png"))
    for label, data, name in images:
        gen, total = _parts(data, 0, name)
        _measure(label, app, path, token, gen, total)


if __name__ == "__main__":
    main()
