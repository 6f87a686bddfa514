"""Streaming limits for document uploads.

The request body is never read whole into memory: a Content-Length past the
limit is refused before parsing, and while the multipart body streams to a
temporary file the handler below stops at the first byte past the limit, and at
the start of a second file.
"""

from django.core.files.uploadhandler import TemporaryFileUploadHandler

from documents.services import DocumentInvalid, max_bytes, too_large_error

# Room for the multipart boundaries, part headers and the small form fields.
MULTIPART_OVERHEAD = 64 * 1024


def declared_length(meta) -> int | None:
    try:
        length = int(meta.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def check_declared_length(meta) -> None:
    """Refuse, without reading it, a body that announces itself as too large."""
    length = declared_length(meta)
    if length is not None and length > max_bytes() + MULTIPART_OVERHEAD:
        raise too_large_error()


class DocumentUploadHandler(TemporaryFileUploadHandler):
    """Streams the one allowed file to a temporary file, counting as it goes."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_bytes()
        self.files_seen = 0
        self.completed = []

    def new_file(self, field_name, file_name, content_type, content_length,
                 charset=None, content_type_extra=None):
        self.files_seen += 1
        if self.files_seen > 1:
            self._discard()
            raise DocumentInvalid("Send exactly one file per request.", field="file")
        if field_name != "file":
            raise DocumentInvalid(
                f"The file must be sent in the 'file' field, not {field_name[:50]!r}.",
                field="file",
            )
        if content_length is not None and content_length > self.limit:
            raise too_large_error()
        super().new_file(field_name, file_name, content_type, content_length,
                         charset, content_type_extra)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self._discard()
            raise too_large_error()
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        done = super().file_complete(file_size)
        self.completed.append(done)
        return done

    def upload_interrupted(self):
        self._discard()

    def _discard(self):
        for done in self.completed:
            done.close()
        if getattr(self, "file", None) is not None:
            self.file.close()
