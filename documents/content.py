"""Content checks for claim documents: what the bytes really are, image
re-encoding and file-name hygiene. Pure functions, no database, no storage.

The type of a file is decided by libmagic from its bytes; neither the name the
client gave it nor the Content-Type it sent is ever consulted. PDF, DOCX and DOC
must then parse as that type and be inert (documents.structure).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import magic
from django.conf import settings
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError


class ContentRejected(ValueError):
    """The bytes are not an acceptable document; the message says why."""


class ImageBomb(ContentRejected):
    """An image whose pixel count would exhaust memory when decoded."""


@dataclass(frozen=True)
class Kind:
    mime: str
    label: str
    extension: str
    pillow_format: str | None = None  # set for the image kinds we re-encode


JPEG = Kind("image/jpeg", "JPEG", ".jpg", "JPEG")
PNG = Kind("image/png", "PNG", ".png", "PNG")
GIF = Kind("image/gif", "GIF", ".gif", "GIF")
PDF = Kind("application/pdf", "PDF", ".pdf")
DOC = Kind("application/msword", "DOC", ".doc")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "DOCX", ".docx")

ALLOWED: dict[str, Kind] = {k.mime: k for k in (JPEG, PNG, GIF, PDF, DOC, DOCX)}
ALLOWED_LABELS = ", ".join(k.label for k in ALLOWED.values())

# libmagic reads at most this much of the head of a file.
SNIFF_BYTES = 1024 * 1024
# Images are fitted into this box (aspect ratio kept, never enlarged).
MAX_IMAGE_SIZE = (1920, 1080)
# More pixels than this is treated as a decompression bomb (JPEGs are decoded at a
# reduced scale, so this bounds the memory a PNG or GIF may take: ~4 bytes a pixel).
DEFAULT_MAX_IMAGE_PIXELS = 64_000_000
MAX_GIF_FRAMES = 200
JPEG_QUALITY = 88
ORIENTATION = 0x0112  # EXIF tag


def max_image_pixels() -> int:
    return int(getattr(settings, "DOCUMENT_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))


# --- type sniffing ---------------------------------------------------------------

def sniff(head: bytes, fileobj=None) -> Kind:
    """The kind of the bytes, or ContentRejected. `head` is the start of the file;
    `fileobj` (seekable) lets a ZIP container be inspected for DOCX."""
    if not head:
        raise ContentRejected("The file is empty.")
    mime = magic.from_buffer(head[:SNIFF_BYTES], mime=True)
    if mime == "application/zip" and fileobj is not None and _is_word_package(fileobj):
        # libmagic recognises DOCX only when the package parts come in a given order.
        mime = DOCX.mime
    kind = ALLOWED.get(mime)
    if kind is None:
        raise ContentRejected(
            f"Unsupported file type ({mime}). Allowed types: {ALLOWED_LABELS}."
        )
    if fileobj is None:
        fileobj = io.BytesIO(head)
    from documents import structure  # it raises this module's ContentRejected

    if kind is DOCX:
        structure.check_docx(fileobj)
    elif kind is PDF:
        structure.check_pdf(fileobj)
    elif kind is DOC:
        structure.check_doc(fileobj)
    return kind


def _zip_names(fileobj) -> list[str] | None:
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        fileobj.seek(0)


def _is_word_package(fileobj) -> bool:
    names = _zip_names(fileobj)
    return bool(names) and "[Content_Types].xml" in names and "word/document.xml" in names


# --- images ------------------------------------------------------------------------

def reencode_image(data, kind: Kind) -> bytes:
    """Decode and re-encode an image (bytes or a binary file): every piece of metadata
    (EXIF, GPS, XMP, comments, ICC profiles) is dropped, orientation is applied to the pixels, and
    the picture is fitted within MAX_IMAGE_SIZE. Decompression bombs and
    undecodable images raise ContentRejected."""
    limit = max_image_pixels()
    try:
        source = data if hasattr(data, "read") else io.BytesIO(data)
        with Image.open(source, formats=[kind.pillow_format]) as img:
            width, height = img.size
            frames = getattr(img, "n_frames", 1) if kind is GIF else 1
            if width * height * frames > limit or frames > MAX_GIF_FRAMES:
                raise ImageBomb(
                    f"The image is too large to process ({width}x{height} pixels"
                    f"{f', {frames} frames' if frames > 1 else ''}); "
                    f"the limit is {limit // 1_000_000} megapixels."
                )
            if kind is GIF and frames > 1:
                return _reencode_animation(img)
            if kind is JPEG:
                # Decode at a reduced scale when the target is much smaller.
                img.draft("RGB", (MAX_IMAGE_SIZE[0] * 2, MAX_IMAGE_SIZE[1] * 2))
            clean = _clean_frame(img, kind)
    except ContentRejected:
        raise
    except Image.DecompressionBombError as exc:
        # Pillow's own guard, for sizes far beyond ours.
        raise ImageBomb("The image is too large to process (decompression bomb).") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            IndexError, TypeError, MemoryError) as exc:
        raise ContentRejected(f"The {kind.label} image is damaged and cannot be read.") \
            from exc
    out = io.BytesIO()
    if kind is JPEG:
        clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif kind is PNG:
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "GIF")
    return out.getvalue()


def _clean_frame(img: Image.Image, kind: Kind) -> Image.Image:
    """A new image holding only the pixels of `img`, oriented and fitted."""
    if img.getexif().get(ORIENTATION, 1) != 1:
        img = ImageOps.exif_transpose(img)
    if kind is JPEG:
        target = "L" if img.mode in ("L", "1") else "RGB"
    else:
        has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        target = "RGBA" if has_alpha else "RGB"
    if img.mode != target:
        img = img.convert(target)
    img.thumbnail(MAX_IMAGE_SIZE, Image.Resampling.LANCZOS)
    # Rebuild from raw pixels so no info/metadata of the source survives.
    return Image.frombytes(img.mode, img.size, img.tobytes())


def _reencode_animation(img: Image.Image) -> bytes:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(img):
        durations.append(int(frame.info.get("duration", 100) or 100))
        copy = frame.convert("RGBA")
        copy.thumbnail(MAX_IMAGE_SIZE, Image.Resampling.LANCZOS)
        frames.append(Image.frombytes(copy.mode, copy.size, copy.tobytes()))
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=durations,
                   loop=0, disposal=2)
    return out.getvalue()


# --- names ---------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w.\- ()+,]", re.UNICODE)
_RUNS = re.compile(r"[_ ]{2,}")
MAX_FILENAME = 150


def sanitize_filename(name: str | None, kind: Kind) -> str:
    """The client's file name made safe to show and to put in a header: no path,
    no control or shell/HTML characters, no leading dots, bounded length, and the
    extension of the type the bytes really are."""
    name = unicodedata.normalize("NFKC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = _RUNS.sub("_", name).strip(" ._")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem.strip(" ._") or "document"
    stem = stem[: MAX_FILENAME - len(kind.extension)].rstrip(" ._") or "document"
    return f"{stem}{kind.extension}"
