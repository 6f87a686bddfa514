"""The one way a document's bytes leave the system: streamed, as an attachment,
with the sniffed content type and headers that stop a browser from rendering it.
Used by the API and the admin alike (callers check visibility first)."""

import logging

from django.http import FileResponse, Http404

from documents.models import Document, document_storage
from documents.signals import document_downloaded

logger = logging.getLogger("insurance.documents")

BLOCK_SIZE = 64 * 1024


def _open_stream(document: Document):
    """A readable stream of the stored bytes. For S3 the object body is streamed
    straight from the service rather than first copied to a local buffer."""
    stored = document_storage().open(document.file.name, "rb")
    s3_object = getattr(stored, "obj", None)
    if s3_object is not None:
        return s3_object.get()["Body"]
    return stored


def document_response(document: Document, *, request=None, user=None) -> FileResponse:
    """The streamed attachment. Pass the request (and the user, when the request's
    own does not say who it is) so the download is announced for the audit trail."""
    try:
        stream = _open_stream(document)
    except (FileNotFoundError, OSError) as exc:
        logger.error("document.bytes_missing", extra={
            "event": "document.bytes_missing", "document_id": str(document.pk)})
        raise Http404("The document's content is not available.") from exc
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=document.filename,
        content_type=document.mime_type,
    )
    response.block_size = BLOCK_SIZE
    response["Content-Length"] = str(document.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    if request is not None or user is not None:
        document_downloaded.send(sender=Document, document=document,
                                 user=user or getattr(request, "user", None), request=request)
    return response
