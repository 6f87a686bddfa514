"""Writes for claim documents.

Bytes and rows move together: the row is written in a transaction and the bytes
only once that transaction commits (`on_commit`), so a rolled-back write leaves
neither; if storing the bytes then fails, the row is removed again. Deleting
works the same way round: the row goes first, the bytes after the commit.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid

from auditlog.context import disable_auditlog
from django.conf import settings
from django.core.files import File
from django.db import transaction
from rest_framework import status

from accounts.models import User
from claims.models import Claim
from claims.selectors import claims_visible_to
from core.exceptions import DomainError
from core.request_context import acting_for_actor
from documents import content
from documents.models import Document, DocumentType, document_storage

logger = logging.getLogger("insurance.documents")

_CHUNK = 64 * 1024


class DocumentInvalid(DomainError):
    """The upload is not an acceptable document (400)."""


class DocumentTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "too_large"


class DocumentNotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class DocumentStorageUnavailable(DomainError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "storage_unavailable"


def max_bytes() -> int:
    return int(settings.DOCUMENT_MAX_BYTES)


def too_large_error() -> DocumentTooLarge:
    limit = max_bytes()
    return DocumentTooLarge(
        f"The file is larger than the {_human(limit)} limit.",
        field="file", extra={"max_bytes": limit},
    )


def _human(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


def _spool(uploaded_file) -> tuple[tempfile.SpooledTemporaryFile, bytes, int]:
    """Copy the upload into a private spool (it must outlive the request's own
    temporary file until the commit), keeping its head for sniffing. Stops as
    soon as the size limit is passed."""
    limit = max_bytes()
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by the caller
        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    head = bytearray()
    size = 0
    try:
        uploaded_file.seek(0)
    except (AttributeError, OSError):
        pass
    while True:
        chunk = uploaded_file.read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            spool.close()
            raise too_large_error()
        if len(head) < content.SNIFF_BYTES:
            head += chunk[: content.SNIFF_BYTES - len(head)]
        spool.write(chunk)
    spool.seek(0)
    return spool, bytes(head), size


@acting_for_actor
def document_create(*, actor: User, claim: Claim, uploaded_file, document_type: str) -> Document:
    """Check, clean and store one file for a claim the actor may see.

    Raises DocumentInvalid (400) for a wrong type or unreadable content,
    DocumentTooLarge (413) past settings.DOCUMENT_MAX_BYTES, DocumentNotFound (404)
    when the claim is not visible to the actor. Nothing is stored on rejection.
    """
    if document_type not in DocumentType.values:
        raise DocumentInvalid(
            f"Unknown document type; use one of {', '.join(DocumentType.values)}.",
            field="document_type",
        )
    if uploaded_file is None:
        raise DocumentInvalid("No file was sent.", field="file")
    if not claims_visible_to(actor).filter(pk=claim.pk).exists():
        raise DocumentNotFound("Claim not found.")
    declared = getattr(uploaded_file, "size", None)
    if declared is not None and declared > max_bytes():
        raise too_large_error()

    spool, head, size = _spool(uploaded_file)
    try:
        try:
            kind = content.sniff(head, spool)
            if kind.pillow_format:
                data = content.reencode_image(spool, kind)
                spool.close()
                spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed below
                    max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
                spool.write(data)
                spool.seek(0)
        except content.ContentRejected as exc:
            raise DocumentInvalid(str(exc), field="file") from exc

        digest, size = _digest(spool)
        document = Document(
            claim=claim,
            agency_id=claim.agency_id,
            file=f"{claim.pk}/{uuid.uuid4().hex}{kind.extension}",
            filename=content.sanitize_filename(getattr(uploaded_file, "name", ""), kind),
            mime_type=kind.mime,
            size=size,
            document_type=document_type,
            sha256=digest,
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        with transaction.atomic():
            document.save(force_insert=True)
            transaction.on_commit(lambda: _store_bytes(document, spool))
    except BaseException:
        spool.close()
        raise
    logger.info("document.created", extra={
        "event": "document.created", "document_id": str(document.pk),
        "claim_id": str(claim.pk), "mime_type": kind.mime, "size": size})
    return document


def _digest(spool) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    spool.seek(0)
    for chunk in iter(lambda: spool.read(_CHUNK), b""):
        sha.update(chunk)
        size += len(chunk)
    spool.seek(0)
    return sha.hexdigest(), size


def _store_bytes(document: Document, spool) -> None:
    """After the commit: write the bytes; if that fails, take the row back out."""
    storage = document_storage()
    wanted = document.file.name
    try:
        saved = storage.save(wanted, File(spool, name=wanted))
    except Exception as exc:
        logger.exception("document.store_failed", extra={
            "event": "document.store_failed", "document_id": str(document.pk)})
        Document.objects.filter(pk=document.pk).delete()
        raise DocumentStorageUnavailable(
            "The document could not be stored; please try again."
        ) from exc
    finally:
        spool.close()
    if saved != wanted:  # the storage picked another free name
        document.file.name = saved
        document.save(update_fields=["file"])


@acting_for_actor
def document_delete(*, actor: User, document: Document) -> None:
    """Remove the row now and its bytes once the deletion is committed."""
    if not claims_visible_to(actor).filter(pk=document.claim_id).exists():
        raise DocumentNotFound("Document not found.")
    name = document.file.name
    document_id = str(document.pk)
    with transaction.atomic():
        Document.objects.filter(pk=document.pk).delete()
        transaction.on_commit(lambda: _delete_bytes(name, document_id))
    logger.info("document.deleted", extra={
        "event": "document.deleted", "document_id": document_id})


def _delete_bytes(name: str, document_id: str) -> None:
    if not name:
        return
    try:
        document_storage().delete(name)
    except Exception:
        # The row is gone; leave a trace so an operator can remove the object.
        logger.exception("document.bytes_delete_failed", extra={
            "event": "document.bytes_delete_failed", "document_id": document_id,
            "stored_name": name})


@transaction.atomic
def documents_anonymize(*, documents, redactor) -> int:
    """Scrub one person's data (a `core.redact.Redactor`) from the original names
    of these documents (erasure); the bytes are stored under a random name.
    Written without a change record. Returns how many changed."""
    changed = 0
    for pk, filename in (documents.select_for_update(of=("self",))
                         .values_list("pk", "filename")):
        scrubbed = redactor.filename(filename)
        if scrubbed != filename:
            with disable_auditlog():  # the erasure's own entry accounts for it
                Document.objects.filter(pk=pk).update(filename=scrubbed)
            changed += 1
    return changed
