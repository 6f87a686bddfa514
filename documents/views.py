"""Portal pages for a claim's detail (status history and documents), uploading a
document from that page, and downloading one."""

from django.contrib import messages
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from accounts.forms import add_domain_error
from accounts.views import portal_page, render_page
from claims.forms import ClaimNoteForm
from claims.selectors import claim_history, claim_notes_visible_to, claims_visible_to
from core.exceptions import DomainError
from documents import services
from documents.downloads import document_response
from documents.forms import DocumentUploadForm
from documents.selectors import documents_of_claim, documents_visible_to
from documents.uploads import DocumentUploadHandler, check_declared_length

LIVE_PANELS = ("claim-history", "claim-details", "claim-notes", "claim-money")


def _claim_page(request, claim, form, *, status=200, note_form=None):
    partial = None
    if request.htmx and request.htmx.target in LIVE_PANELS:
        partial = request.htmx.target.removeprefix("claim-")
    return render_page(request, "claims/claim_detail.html", {
        "claim": claim,
        "history": claim_history(claim=claim),
        "documents": documents_of_claim(user=request.user, claim_id=claim.pk),
        "notes": claim_notes_visible_to(request.user, claim=claim),
        "note_form": note_form or ClaimNoteForm(),
        "form": form,
    }, partial=partial, status=status)


def _visible_claim(request, pk):
    return get_object_or_404(claims_visible_to(request.user).select_related("policy__customer"),
                             pk=pk)


# A refused upload is answered with a redirect to the claim's page (post/redirect/get:
# the address bar never keeps the upload URL, a reload never re-sends the file); the
# errors wait in the session for that one page view.
REFUSED_UPLOAD = "portal.refused_upload"


def _refused(request, claim, form):
    request.session[REFUSED_UPLOAD] = {
        "claim": str(claim.pk),
        "document_type": (form.data.get("document_type") or "") if form.is_bound else "",
        "errors": {field: [str(e) for e in errors] for field, errors in form.errors.items()},
    }
    response = redirect(reverse("portal:claim-detail", args=[claim.pk]) + "#errors")
    response.status_code = 303
    return response


def _upload_form(request, claim) -> DocumentUploadForm:
    refused = request.session.get(REFUSED_UPLOAD)
    if not refused or refused.get("claim") != str(claim.pk) or request.htmx:
        return DocumentUploadForm()
    del request.session[REFUSED_UPLOAD]
    form = DocumentUploadForm(initial={"document_type": refused.get("document_type", "")})
    form.errors  # noqa: B018 - an unbound form gets an empty error list to add to
    form.cleaned_data = {}
    for field, errors in refused.get("errors", {}).items():
        for error in errors:
            form.add_error(None if field == "__all__" else field, error)
    return form


@portal_page
def claim_detail(request, pk):
    claim = _visible_claim(request, pk)
    return _claim_page(request, claim, _upload_form(request, claim))


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
        return _refused(request, claim, form)
    except MultiPartParserError:
        add_domain_error(form, DomainError("The upload could not be read; send it again.",
                                           field="file"))
        return _refused(request, claim, form)
    return _document_upload_checked(request, claim)


@csrf_protect
def _document_upload_checked(request, claim):
    form = DocumentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _refused(request, claim, form)
    try:
        document = services.document_create(
            actor=request.user, claim=claim, uploaded_file=form.cleaned_data["file"],
            document_type=form.cleaned_data["document_type"],
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _refused(request, claim, form)
    messages.success(request, f"{document.filename} uploaded.")
    return redirect("portal:claim-detail", pk=claim.pk)


@portal_page
def document_download(request, pk):
    document = get_object_or_404(documents_visible_to(request.user), pk=pk)
    return document_response(document, request=request)
