import io

import pytest
from PIL import Image

from documents import content
from tests.documents import files


def sniffed(data: bytes) -> content.Kind:
    return content.sniff(data, io.BytesIO(data))


@pytest.mark.parametrize("data, kind", [
    (files.image("JPEG"), content.JPEG),
    (files.image("PNG"), content.PNG),
    (files.image("GIF"), content.GIF),
    (files.pdf(), content.PDF),
    (files.docx(), content.DOCX),
    (files.word_97_doc(), content.DOC),
    # libmagic only names a DOCX when [Content_Types].xml comes first; the package
    # check recognises the others from their parts.
    (files.docx(order=("_rels/.rels", "word/document.xml", "[Content_Types].xml")),
     content.DOCX),
])
def test_sniff_accepts_allowed_kinds(data, kind):
    assert sniffed(data) is kind


@pytest.mark.parametrize("data, detected", [
    (files.SHELL_SCRIPT, "text/x-shellscript"),
    (files.HTML_PAGE, "text/html"),
    (files.SVG_WITH_SCRIPT, "image/svg+xml"),
    (files.plain_zip(), "application/zip"),
    (files.excel_97_xls(), "application/vnd.ms-excel"),
    (b"just some words\n", "text/plain"),
])
def test_sniff_rejects_everything_else_naming_the_type(data, detected):
    with pytest.raises(content.ContentRejected) as err:
        sniffed(data)
    assert detected in str(err.value)
    assert "JPEG, PNG, GIF, PDF, DOC, DOCX" in str(err.value)


def test_sniff_rejects_empty_and_macro_documents():
    with pytest.raises(content.ContentRejected, match="empty"):
        content.sniff(b"")
    with pytest.raises(content.ContentRejected, match="macros"):
        sniffed(files.docx(extra={"word/vbaProject.bin": "binary"}))


def test_reencode_drops_exif_and_gps_and_comments():
    original = files.jpeg_with_gps()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(files.GPS_IFD)  # the fixture really carries GPS
    assert b"ExampleCam" in original and b"shot at home" in original

    out = content.reencode_image(original, content.JPEG)

    img = Image.open(io.BytesIO(out))
    assert img.format == "JPEG"
    assert dict(img.getexif()) == {}
    assert "exif" not in img.info and "comment" not in img.info
    assert b"ExampleCam" not in out and b"shot at home" not in out and b"Exif" not in out


def test_reencode_drops_png_text_and_gif_comment():
    out = content.reencode_image(files.png_with_text(), content.PNG)
    assert b"Secret Lane" not in out
    assert Image.open(io.BytesIO(out)).text == {}

    gif = files.animated_gif(frames=3)
    assert b"hidden comment" in gif
    out = content.reencode_image(gif, content.GIF)
    assert b"hidden comment" not in out
    assert Image.open(io.BytesIO(out)).n_frames == 3


@pytest.mark.parametrize("size, expected", [
    ((4000, 3000), (1440, 1080)),
    ((3000, 1000), (1920, 640)),
    ((1000, 4000), (270, 1080)),
    ((800, 600), (800, 600)),  # never enlarged
])
def test_reencode_fits_within_1920x1080(size, expected):
    out = content.reencode_image(files.image("PNG", size=size), content.PNG)
    assert Image.open(io.BytesIO(out)).size == expected


def test_reencode_applies_orientation_before_dropping_it():
    img = Image.new("RGB", (60, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    out = Image.open(io.BytesIO(content.reencode_image(buf.getvalue(), content.JPEG)))
    assert out.size == (20, 60)
    assert 0x0112 not in out.getexif()


def test_decompression_bombs_are_rejected_not_decoded():
    # Far past Pillow's own guard.
    with pytest.raises(content.ImageBomb):
        content.reencode_image(files.png_bomb(), content.PNG)
    # Past our limit, under Pillow's: rejected on the header, before decoding.
    with pytest.raises(content.ImageBomb, match="megapixels"):
        content.reencode_image(files.png_bomb(9000, 9000), content.PNG)


def test_damaged_image_is_rejected():
    data = files.image("PNG", size=(300, 300))
    with pytest.raises(content.ContentRejected, match="damaged"):
        content.reencode_image(data[: len(data) // 2], content.PNG)


@pytest.mark.parametrize("given, kind, expected", [
    ("../../etc/passwd", content.PDF, "passwd.pdf"),
    ("..\\..\\windows\\win.ini", content.DOCX, "win.docx"),
    ("<b>x</b><img src=x onerror=alert(1)>.png", content.PNG, "b_img src_x onerror_alert(1).png"),
    ('quote"semi;colon\r\nnewline.jpeg', content.JPEG, "quote_semi_colonnewline.jpg"),
    ("photo.pdf", content.PNG, "photo.png"),  # the extension follows the real type
    ("Rapport médical.PDF", content.PDF, "Rapport médical.pdf"),
    ("...", content.PDF, "document.pdf"),
    ("", content.GIF, "document.gif"),
    (".bashrc", content.PDF, "bashrc.pdf"),
    ("a" * 400 + ".pdf", content.PDF, "a" * 146 + ".pdf"),
])
def test_sanitize_filename(given, kind, expected):
    assert content.sanitize_filename(given, kind) == expected
