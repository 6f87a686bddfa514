"""Portal pages for a claim's detail (status history and documents), uploading a
document from that page, and downloading one."""

from django.contrib import messages
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.forms import add_domain_error
from accounts.views import portal_page, render_page
from claims.selectors import claim_history, claims_visible_to
from core.exceptions import DomainError
from documents import services
from documents.downloads import document_response
from documents.forms import DocumentUploadForm
from documents.selectors import documents_of_claim, documents_visible_to
from documents.uploads import DocumentUploadHandler, check_declared_length


def _claim_page(request, claim, form, *, status=200):
    partial = None
    if request.htmx and request.htmx.target in ("claim-history", "claim-details"):
        partial = request.htmx.target.removeprefix("claim-")
    return render_page(request, "claims/claim_detail.html", {
        "claim": claim,
        "history": claim_history(claim=claim),
        "documents": documents_of_claim(user=request.user, claim_id=claim.pk),
        "form": form,
    }, partial=partial, status=status)


def _visible_claim(request, pk):
    return get_object_or_404(claims_visible_to(request.user).select_related("policy__customer"),
                             pk=pk)


@portal_page
def claim_detail(request, pk):
    return _claim_page(request, _visible_claim(request, pk), DocumentUploadForm())


# The upload limits must be in place before anything reads the body, and the
# CSRF check reads it; so the check runs inside, once the handlers are set.
@csrf_exempt
@portal_page(methods=("POST",), write=True)
def document_upload(request, pk):
    claim = _visible_claim(request, pk)
    form = DocumentUploadForm()
    try:
        check_declared_length(request.META)
        request.upload_handlers = [DocumentUploadHandler(request)]
        request.POST  # noqa: B018 - parse now, under the limits
    except DomainError as exc:
        add_domain_error(form, exc)
        return _claim_page(request, claim, form, status=exc.status_code)
    except MultiPartParserError:
        form.add_error("file", "The upload could not be read; send it again.")
        return _claim_page(request, claim, form, status=400)
    return _document_upload_checked(request, claim)


@csrf_protect
def _document_upload_checked(request, claim):
    form = DocumentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _claim_page(request, claim, form, status=400)
    try:
        document = services.document_create(
            actor=request.user, claim=claim, uploaded_file=form.cleaned_data["file"],
            document_type=form.cleaned_data["document_type"],
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _claim_page(request, claim, form, status=exc.status_code)
    messages.success(request, f"{document.filename} uploaded.")
    return redirect("portal:claim-detail", pk=claim.pk)


@portal_page
def document_download(request, pk):
    document = get_object_or_404(documents_visible_to(request.user), pk=pk)
    return document_response(document, request=request)
