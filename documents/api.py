from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from claims.selectors import claims_visible_to
from core.parsers import JSONParser
from documents import selectors, services
from documents.downloads import document_response
from documents.models import Document, DocumentType
from documents.uploads import DocumentUploadHandler, check_declared_length


class DocumentOutput(serializers.ModelSerializer):
    claim_id = serializers.UUIDField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ("id", "claim_id", "filename", "mime_type", "size", "document_type",
                  "uploaded_at", "download_url")
        read_only_fields = fields

    def get_download_url(self, doc) -> str:
        return reverse("document-download", kwargs={"pk": doc.pk})


class DocumentUploadInput(serializers.Serializer):
    file = serializers.FileField(
        help_text="Exactly one file: JPEG, PNG, GIF, PDF, DOC or DOCX, decided from its bytes."
    )
    document_type = serializers.ChoiceField(choices=DocumentType.choices)


class DocumentTypeInput(serializers.Serializer):
    document_type = serializers.ChoiceField(choices=DocumentType.choices)


_ERRORS = {
    400: OpenApiResponse(description="Missing or extra file, unsupported or damaged content, "
                                     "unknown document_type."),
    404: OpenApiResponse(description="No such claim or document visible to the caller."),
}


def _visible_claim(user, claim_pk):
    claim = claims_visible_to(user).filter(pk=claim_pk).first()
    if claim is None:
        raise NotFound("Claim not found.")
    return claim


def _visible_document(user, pk) -> Document:
    try:
        return selectors.document_get(user=user, pk=pk)
    except Document.DoesNotExist:
        raise NotFound("Document not found.") from None


class ClaimDocumentsView(generics.GenericAPIView):
    # Multipart carries the file; a JSON body is parsed only to answer "no file" (400).
    parser_classes = [MultiPartParser, JSONParser]

    perm_model = Document
    serializer_class = DocumentOutput
    queryset = Document.objects.none()
    filter_backends = ()

    @extend_schema(tags=["documents"], summary="List a claim's documents (newest first).",
                   responses={200: DocumentOutput(many=True), 404: _ERRORS[404]})
    def get(self, request, pk):
        claim = _visible_claim(request.user, pk)
        qs = selectors.documents_of_claim(user=request.user, claim_id=claim.pk)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(DocumentOutput(page, many=True).data)

    @extend_schema(
        tags=["documents"],
        summary="Upload one document to a claim.",
        description="The type is sniffed from the bytes (JPEG, PNG, GIF, PDF, DOC, DOCX); "
                    "images are re-encoded without metadata and fitted into 1920x1080.",
        request={"multipart/form-data": DocumentUploadInput},
        responses={
            201: DocumentOutput,
            **_ERRORS,
            413: OpenApiResponse(description="The file is larger than DOCUMENT_MAX_BYTES."),
        },
    )
    def post(self, request, pk):
        claim = _visible_claim(request.user, pk)
        # Before anything reads the body: refuse an announced oversize body outright,
        # and stream the rest through the counting handler.
        check_declared_length(request.META)
        request._request.upload_handlers = [DocumentUploadHandler(request._request)]
        data = DocumentTypeInput(data=request.data)
        files = [f for _, group in request.FILES.lists() for f in group]
        if len(files) != 1:
            raise serializers.ValidationError(
                {"file": ["Send exactly one file, in the 'file' field."]
                 if files else ["No file was sent; use the 'file' field."]}
            )
        data.is_valid(raise_exception=True)
        document = services.document_create(
            actor=request.user, claim=claim, uploaded_file=files[0],
            document_type=data.validated_data["document_type"],
        )
        return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)


class DocumentDetailView(generics.GenericAPIView):
    perm_model = Document
    serializer_class = DocumentOutput
    queryset = Document.objects.none()
    filter_backends = ()

    @extend_schema(responses={200: DocumentOutput, 404: _ERRORS[404]})
    def get(self, request, pk):
        return Response(DocumentOutput(_visible_document(request.user, pk)).data)

    @extend_schema(responses={204: None, 404: _ERRORS[404]})
    def delete(self, request, pk):
        document = _visible_document(request.user, pk)
        services.document_delete(actor=request.user, document=document)
        return Response(status=status.HTTP_204_NO_CONTENT)


# What a stored document can be (its type is sniffed at upload), plus the generic one.
DOWNLOAD_TYPES = (
    "image/jpeg", "image/png", "image/gif", "application/pdf", "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/octet-stream",
)


class AnyAcceptNegotiation(BaseContentNegotiation):
    """A download answers with the document's own type whatever the Accept header."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class DocumentDownloadView(generics.GenericAPIView):
    perm_model = Document
    queryset = Document.objects.none()
    serializer_class = DocumentOutput
    filter_backends = ()
    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(responses={
        (200, *DOWNLOAD_TYPES): OpenApiResponse(
            OpenApiTypes.BINARY,
            description="The bytes, as an attachment, with the sniffed content type."),
        404: _ERRORS[404],
    })
    def get(self, request, pk):
        return document_response(_visible_document(request.user, pk), request=request,
                                 user=request.user)
