"""A file must parse as the type its first bytes claim, and be inert.

- PDF: parsed with pypdf (a file whose structure does not parse is refused); every
  object reachable from the document catalog is visited — the catalog itself, the
  names tree, pages, annotations, form fields, and the objects inside object
  streams, which a search of the raw bytes cannot see — and the file is refused when
  one carries JavaScript (/JS, /JavaScript), an action run by opening or viewing
  (/OpenAction other than a plain go-to, /AA), a launch, submit, import or media
  action, embedded files (/EmbeddedFiles, /EF, file attachments), rich media or an
  XFA form. Such files are refused, not rewritten: rewriting a hostile PDF means
  trusting a PDF writer with it, and a claim document has no use for any of these.
- DOCX: the zip's central directory is read (nothing is extracted to disk); every
  member must be a part a plain Word document has (XML parts, relationships,
  document properties, media images, fonts); HTML, scripts, OLE objects and other
  embeddings, ActiveX, macros (vbaProject) and alternative-format chunks (altChunk)
  are refused, as are a macro-enabled content type, relationships to those parts or
  to external templates, encrypted members, more than MAX_DOCX_MEMBERS members,
  more than MAX_DOCX_UNPACKED bytes unpacked, or a member compressed more than
  MAX_DOCX_RATIO:1. The members are then decompressed in a stream, counting, so a
  central directory that understates sizes is caught too.
- DOC (OLE2 compound file): parsed with olefile; it must hold a WordDocument stream
  and no macros (Macros / VBA / _VBA_PROJECT storages) and no embedded objects
  (ObjectPool).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib

from documents.content import ContentRejected

# --- PDF -----------------------------------------------------------------------------------

MAX_PDF_OBJECTS = 200_000

_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "a launch action (starts a program)",
    "/SubmitForm": "a form-submission action",
    "/ImportData": "a data-import action",
    "/GoToE": "an action opening an embedded file",
    "/RichMediaExecute": "rich media",
    "/Rendition": "a media (rendition) action",
    "/Movie": "a movie action",
    "/Sound": "a sound action",
}
_RICH_MEDIA = {"/RichMedia", "/RichMediaContent", "/RichMediaSettings"}
_MEDIA_ANNOTATIONS = {"/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"}


def _pdf_refuse(what: str):
    raise ContentRejected(f"PDF files with {what} are not accepted.")


def _check_pdf_dictionary(node) -> None:
    keys = set(node.keys())
    if keys & {"/JS", "/JavaScript"}:
        _pdf_refuse("JavaScript")
    if "/AA" in keys:
        _pdf_refuse("automatic actions (/AA)")
    if "/OpenAction" in keys:
        action = node["/OpenAction"]
        # An array is a destination ("open at page 1"); a dictionary is an action.
        if hasattr(action, "keys") and action.get("/S") != "/GoTo":
            _check_pdf_dictionary(action)  # names what the action does, when it can
            _pdf_refuse("an action run on opening (/OpenAction)")
    action = node.get("/S") if "/S" in keys else None
    if action in _ACTIONS:
        _pdf_refuse(_ACTIONS[action])
    if (keys & {"/EmbeddedFiles", "/EF"} or node.get("/Type") == "/EmbeddedFile"
            or node.get("/Subtype") == "/FileAttachment"):
        _pdf_refuse("embedded files")
    if keys & _RICH_MEDIA or node.get("/Subtype") in _MEDIA_ANNOTATIONS:
        _pdf_refuse("rich media")
    if "/XFA" in keys:
        _pdf_refuse("an XFA form")


def _walk_pdf(root) -> None:
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > MAX_PDF_OBJECTS:
                raise ContentRejected("The PDF file has too many objects to be checked.")
            node = node.get_object()
        if isinstance(node, DictionaryObject):  # stream dictionaries included
            _check_pdf_dictionary(node)
            stack.extend(dict.values(node))  # unresolved, so references are tracked
        elif isinstance(node, ArrayObject):
            stack.extend(list.__iter__(node))


def check_pdf(fileobj) -> None:
    """ContentRejected unless the bytes parse as a PDF free of active content."""
    from pypdf import PdfReader

    fileobj.seek(0)
    try:
        reader = PdfReader(fileobj, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ContentRejected("Password-protected PDF files are not accepted.")
        root = reader.trailer.raw_get("/Root")
        catalog = root.get_object()
        if not hasattr(catalog, "keys") or "/Pages" not in catalog:
            raise ValueError("no document catalog")
        len(reader.pages)  # the page tree parses (a document may have no page)
        _walk_pdf(root)
    except ContentRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a broken file makes the parser raise
        raise ContentRejected(
            "The file starts like a PDF but its structure does not parse as one.") from exc
    finally:
        fileobj.seek(0)


# --- DOCX ----------------------------------------------------------------------------------

MAX_DOCX_MEMBERS = 1_000
MAX_DOCX_UNPACKED = 50 * 1024 * 1024
MAX_DOCX_RATIO = 100
# Below this size a member's compression ratio says nothing (tiny, repetitive XML).
_RATIO_FLOOR = 1024 * 1024

_IMAGE = r"(?:png|jpe?g|gif|bmp|tiff?|emf|wmf|svg)"
_ALLOWED_PARTS = [re.compile(p) for p in (
    r"\[content_types\]\.xml",
    r"_rels/\.rels",
    r"docprops/[\w.\-]+\.xml",
    rf"docprops/thumbnail\.{_IMAGE}",
    r"word/[\w.\-]+\.xml",
    r"word/_rels/[\w.\-]+\.xml\.rels",
    r"word/(?:theme|glossary|charts|diagrams|customizations)/[\w.\-]+\.xml",
    r"word/(?:theme|glossary|charts|diagrams)/_rels/[\w.\-]+\.xml\.rels",
    rf"word/media/[\w.\-]+\.{_IMAGE}",
    r"word/fonts/[\w.\-{}]+\.(?:odttf|fntdata|ttf)",
    r"customxml/[\w.\-]+\.xml",
    r"customxml/_rels/[\w.\-]+\.xml\.rels",
)]
# Named explicitly, for a clearer reason than "not a part of a Word document".
_FORBIDDEN_PARTS = [
    (re.compile(r"(^|/)vbaproject\.bin$|(^|/)vbadata\.xml$"), "macros"),
    (re.compile(r"(^|/)activex/"), "ActiveX controls"),
    (re.compile(r"(^|/)embeddings/|oleobject|\.bin$"), "embedded (OLE) objects"),
    (re.compile(r"\.(html?|mht|mhtml|xhtml)$"), "HTML content"),
    (re.compile(r"\.(js|vbs|vbe|jse|wsf|wsh|ps1|bat|cmd|exe|dll|scr|hta|lnk)$"),
     "scripts or programs"),
    (re.compile(r"afchunk|altchunk"), "alternative-format chunks (altChunk)"),
    (re.compile(r"\.(docm|dotm|xlsm|pptm)$"), "macros"),
]
_FORBIDDEN_RELATIONSHIPS = [
    (re.compile(r"/(?:vbaProject|wordVbaData)\b", re.I), "macros"),
    (re.compile(r"/(?:oleObject|package|control|activeXControl|activeXControlBinary)\b",
                re.I), "embedded (OLE) objects"),
    (re.compile(r"/aFChunk\b", re.I), "alternative-format chunks (altChunk)"),
    (re.compile(r"/(?:attachedTemplate|subDocument|frame)\b", re.I),
     "links to external templates or documents"),
]
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>", re.S)
_TYPE = re.compile(rb'\bType\s*=\s*["\']([^"\']*)["\']')
_EXTERNAL = re.compile(rb'\bTargetMode\s*=\s*["\']External["\']', re.I)
_MACRO_CONTENT_TYPE = re.compile(rb"macroEnabled|vbaProject|vbaData|oleObject|activeX", re.I)
_CHUNK = 64 * 1024


def _docx_refuse(what: str):
    raise ContentRejected(f"Word documents with {what} are not accepted.")


def _docx_part_reason(name: str) -> str | None:
    """Why a member may not be in the package; None when it may."""
    lowered = name.lower()
    for pattern, what in _FORBIDDEN_PARTS:
        if pattern.search(lowered):
            return what
    if any(pattern.fullmatch(lowered) for pattern in _ALLOWED_PARTS):
        return None
    return f"an unexpected part ({name[:80]})"


def _check_relationships(data: bytes) -> None:
    for element in _RELATIONSHIP.findall(data):
        match = _TYPE.search(element)
        kind = match.group(1).decode("latin-1") if match else ""
        for pattern, what in _FORBIDDEN_RELATIONSHIPS:
            if pattern.search(kind):
                _docx_refuse(what)
        # Links a reader may follow are fine; content fetched from elsewhere on opening
        # (remote images, templates, objects) is not.
        if _EXTERNAL.search(element) and not kind.endswith("/hyperlink"):
            _docx_refuse("content loaded from external links")


def check_docx(fileobj) -> None:
    """ContentRejected unless the zip is a plain, sanely sized Word package."""
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
            _check_docx_directory(members)
            _check_docx_members(archive, members)
    except ContentRejected:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError, KeyError, RuntimeError, zlib.error) as exc:
        raise ContentRejected("The DOCX file is damaged or not a Word document.") from exc
    finally:
        fileobj.seek(0)


def _check_docx_directory(members) -> None:
    if len(members) > MAX_DOCX_MEMBERS:
        raise ContentRejected(
            f"The DOCX file has too many parts ({len(members)}; the limit is "
            f"{MAX_DOCX_MEMBERS}).")
    names = set()
    total = 0
    for info in members:
        name = info.filename
        if info.is_dir():
            continue
        normalized = posixpath.normpath(name)
        if (name.startswith("/") or "\\" in name or normalized != name
                or normalized.startswith("..")):
            raise ContentRejected("The DOCX file has a part with an unsafe name.")
        if name.lower() in names:
            raise ContentRejected("The DOCX file has two parts with the same name.")
        names.add(name.lower())
        if info.flag_bits & 0x1:
            raise ContentRejected("Encrypted DOCX files are not accepted.")
        reason = _docx_part_reason(name)
        if reason is not None:
            _docx_refuse(reason)
        total += info.file_size
        if total > MAX_DOCX_UNPACKED:
            raise ContentRejected(
                f"The DOCX file unpacks to more than {MAX_DOCX_UNPACKED // (1024 * 1024)} MiB.")
        if (info.file_size > _RATIO_FLOOR
                and info.file_size > MAX_DOCX_RATIO * max(info.compress_size, 1)):
            raise ContentRejected(
                f"The DOCX file is compressed more than {MAX_DOCX_RATIO}:1 (a zip bomb?).")
    if "word/document.xml" not in names or "[content_types].xml" not in names:
        raise ContentRejected("The DOCX file is damaged or not a Word document.")


def _check_docx_members(archive, members) -> None:
    """Decompress every member in a stream (never to disk), holding the sizes the
    central directory claimed to; read the content types and relationships."""
    total = 0
    for info in members:
        if info.is_dir():
            continue
        lowered = info.filename.lower()
        keep = lowered == "[content_types].xml" or lowered.endswith(".rels")
        kept = bytearray()
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                total += len(chunk)
                if total > MAX_DOCX_UNPACKED:
                    raise ContentRejected(
                        "The DOCX file unpacks to more than "
                        f"{MAX_DOCX_UNPACKED // (1024 * 1024)} MiB.")
                if keep:
                    kept += chunk
        if lowered == "[content_types].xml" and _MACRO_CONTENT_TYPE.search(kept):
            _docx_refuse("macros or embedded objects")
        if keep and lowered.endswith(".rels"):
            _check_relationships(bytes(kept))


# --- DOC (OLE2 compound file) -----------------------------------------------------------------

_OLE_MACRO_STORAGES = {"macros", "vba", "_vba_project_cur", "_vba_project"}


def check_doc(fileobj) -> None:
    """ContentRejected unless the compound file parses, is a Word document, and
    holds no macros or embedded objects."""
    import olefile

    fileobj.seek(0)
    try:
        data = fileobj.read()
        if not olefile.isOleFile(io.BytesIO(data)):
            raise ValueError("not a compound file")
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            entries = [[part.lower() for part in path]
                       for path in ole.listdir(streams=True, storages=True)]
    except ContentRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a broken file makes the parser raise
        raise ContentRejected(
            "The DOC file is damaged: its structure does not parse as a Word document."
        ) from exc
    finally:
        fileobj.seek(0)
    if ["worddocument"] not in entries:
        raise ContentRejected("The DOC file is not a Word document (no WordDocument stream).")
    for path in entries:
        if any(part in _OLE_MACRO_STORAGES for part in path):
            raise ContentRejected("Word documents with macros are not accepted.")
        if path and path[0] == "objectpool":
            raise ContentRejected("Word documents with embedded (OLE) objects are not accepted.")
