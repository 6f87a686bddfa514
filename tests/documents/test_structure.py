"""Documents are what they claim, and inert: PDFs parsed and checked for active
content, DOCX packages checked member by member, DOC compound files for macros.
Every refusal is a 400 naming the reason, and nothing is stored."""

import io

import pytest

from documents import content, structure
from documents.models import Document
from tests.documents import files
from tests.documents.test_api import stored_files


def sniffed(data: bytes) -> content.Kind:
    return content.sniff(data[: content.SNIFF_BYTES], io.BytesIO(data))


# --- what passes ----------------------------------------------------------------------------

@pytest.mark.parametrize("data, kind", [
    (files.pdf(), content.PDF),
    (files.pdf_with_goto_open_action(), content.PDF),
    (files.docx(), content.DOCX),
    (files.docx_with({"word/_rels/document.xml.rels": files._DOCUMENT_RELS_HYPERLINK,
                      "word/media/image1.png": files.image("PNG"),
                      "docProps/core.xml": "<cp:coreProperties/>",
                      "word/styles.xml": "<w:styles/>",
                      "word/theme/theme1.xml": "<a:theme/>"}), content.DOCX),
    (files.word_97_doc(), content.DOC),
])
def test_plain_documents_pass(data, kind):
    assert sniffed(data) is kind


# --- PDF --------------------------------------------------------------------------------------

@pytest.mark.parametrize("builder, reason", [
    (files.pdf_open_action_javascript, "JavaScript"),
    (files.pdf_with_compressed_javascript, "JavaScript"),
    (files.pdf_with_names_javascript, "JavaScript"),
    (files.pdf_with_page_additional_actions, "automatic actions"),
    (files.pdf_with_launch_annotation, "launch action"),
    (files.pdf_with_embedded_file, "embedded files"),
    (files.pdf_with_xfa_form, "XFA form"),
    (files.pdf_with_rich_media, "rich media"),
])
def test_active_pdfs_are_refused_naming_the_reason(builder, reason):
    with pytest.raises(content.ContentRejected, match=reason):
        sniffed(builder())


def test_compressed_javascript_is_not_in_the_raw_bytes():
    """Why PDFs are parsed rather than searched."""
    data = files.pdf_with_compressed_javascript()
    assert b"/JavaScript" not in data and b"/JS" not in data
    with pytest.raises(content.ContentRejected, match="JavaScript"):
        structure.check_pdf(io.BytesIO(data))


def test_an_open_action_that_is_only_a_destination_is_fine():
    structure.check_pdf(io.BytesIO(files.pdf_with_goto_open_action()))


@pytest.mark.parametrize("data", [
    files.HTML_STARTING_LIKE_PDF,
    b"%PDF-1.7\n" + b"\0" * 2000,
    files.pdf()[:60],  # cut short
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
])
def test_a_file_that_only_starts_like_a_pdf_is_refused(data):
    assert content.magic.from_buffer(data, mime=True) == "application/pdf"
    with pytest.raises(content.ContentRejected, match="does not parse"):
        sniffed(data)


# --- DOCX -------------------------------------------------------------------------------------

@pytest.mark.parametrize("members, reason", [
    ({"word/evil.html": "<script>alert(1)</script>"}, "HTML"),
    ({"evil.html": "<html></html>"}, "HTML"),
    ({"word/payload.js": "x"}, "scripts"),
    ({"word/run.vbs": "x"}, "scripts"),
    ({"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"}, "OLE"),
    ({"word/vbaProject.bin": b"x"}, "macros"),
    ({"word/activeX/activeX1.xml": "<ax/>"}, "ActiveX"),
    ({"word/afchunk.mht": "MIME-Version: 1.0"}, "HTML"),
    ({"word/_rels/document.xml.rels": files._DOCUMENT_RELS_ALTCHUNK,
      "word/chunk.xml": "<x/>"}, "altChunk"),
    ({"word/_rels/settings.xml.rels": files._SETTINGS_RELS_REMOTE_TEMPLATE},
     "external templates"),
    ({"word/notes.txt": "x"}, "unexpected part"),
    ({"../../etc/passwd": "x"}, "unsafe name"),
])
def test_docx_members_are_checked_against_a_whitelist(members, reason):
    with pytest.raises(content.ContentRejected, match=reason):
        sniffed(files.docx_with(members))


def test_a_macro_enabled_content_type_is_refused():
    types = files._CONTENT_TYPES.replace(
        "document.main+xml", "document.macroEnabled.main+xml")
    with pytest.raises(content.ContentRejected, match="macros"):
        sniffed(files.docx_with({}, content_types=types))


def test_a_docx_zip_bomb_is_refused_from_its_directory():
    data = files.docx_zip_bomb()
    assert len(data) < 300 * 1024  # a small upload
    with pytest.raises(content.ContentRejected, match="more than 50 MiB"):
        sniffed(data)


def test_a_high_compression_ratio_is_refused():
    data = files.docx_with({"word/media/image1.png": b"\0" * (5 * 1024 * 1024)})
    with pytest.raises(content.ContentRejected, match="compressed more than 100:1"):
        sniffed(data)


def test_a_directory_that_understates_sizes_is_caught_while_inflating():
    with pytest.raises(content.ContentRejected):
        sniffed(files.docx_understating_its_size())


def test_too_many_members_are_refused(monkeypatch):
    monkeypatch.setattr(structure, "MAX_DOCX_MEMBERS", 5)
    data = files.docx_with({f"word/media/image{n}.png": b"x" for n in range(5)})
    with pytest.raises(content.ContentRejected, match="too many parts"):
        sniffed(data)


# --- DOC --------------------------------------------------------------------------------------

def test_a_doc_with_macros_is_refused():
    data = files.word_97_doc_with_macros()
    assert content.magic.from_buffer(data, mime=True) == "application/msword"
    with pytest.raises(content.ContentRejected, match="macros"):
        sniffed(data)


def test_a_doc_with_embedded_objects_is_refused():
    with pytest.raises(content.ContentRejected, match="embedded"):
        sniffed(files.word_97_doc_with_object())


def test_a_damaged_doc_is_refused(monkeypatch):
    data = files.word_97_doc()[:700]
    with pytest.raises(content.ContentRejected):
        structure.check_doc(io.BytesIO(data))


# --- through the API: 400 naming the reason, nothing stored -------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("data, name, reason", [
    (files.pdf_open_action_javascript(), "claim.pdf", "JavaScript"),
    (files.HTML_STARTING_LIKE_PDF, "claim.pdf", "does not parse"),
    (files.docx_with({"word/evil.html": "<script>alert(1)</script>"}), "claim.docx", "HTML"),
    (files.docx_zip_bomb(), "claim.docx", "more than 50 MiB"),
    (files.word_97_doc_with_macros(), "claim.doc", "macros"),
])
def test_refusals_are_400_naming_the_reason_and_store_nothing(broker_client, claim, upload,
                                                              settings, data, name, reason):
    response = upload(broker_client, claim, data, name=name, document_type="other")
    assert response.status_code == 400, response.content
    assert reason in response.json()["file"][0]
    assert Document.objects.count() == 0
    assert stored_files(settings) == []
