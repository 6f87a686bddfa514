from django.db.models import QuerySet

from accounts.models import User
from claims.selectors import claims_visible_to
from documents.models import Document


def documents_visible_to(user: User) -> QuerySet[Document]:
    """The one scope for documents: those of the claims the user may see.
    API, portal and admin all use it, so no path leaks another agency's files."""
    qs = Document.objects.select_related("uploaded_by")
    if not (user and user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_broker:  # the agency key: an index scan of the agency's own documents
        return qs.filter(agency_id=user.agency_id)
    return qs.filter(claim__in=claims_visible_to(user).values("pk"))


def document_get(*, user: User, pk) -> Document:
    """Raises Document.DoesNotExist when absent or not visible to the user."""
    return documents_visible_to(user).get(pk=pk)


def documents_of_claim(*, user: User, claim_id) -> QuerySet[Document]:
    return documents_visible_to(user).filter(claim_id=claim_id)


def documents_of_customer(customer) -> QuerySet[Document]:
    """Every document on any claim of any policy of the customer, unscoped:
    for erasure and export, which run with staff authority."""
    return Document.objects.filter(claim__policy__customer=customer).select_related(
        "claim", "uploaded_by"
    )
