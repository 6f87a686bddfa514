"""The broker portal: server-rendered pages from each app's views.py.

A page lives in the app furthest down the import chain among those it shows
(accounts <- customers <- policies <- claims <- documents), so that no app
imports one after it: a customer's page lists claims, so it is in claims.
"""

from django.urls import path

from accounts import views as accounts_views
from claims import views as claims_views
from customers import views as customers_views
from documents import views as documents_views
from events import views as events_views
from policies import views as policies_views

app_name = "portal"

urlpatterns = [
    path("", claims_views.dashboard, name="dashboard"),
    path("login/", accounts_views.login_view, name="login"),
    path("logout/", accounts_views.logout_view, name="logout"),
    path("customers/", customers_views.customer_list, name="customer-list"),
    path("customers/new/", customers_views.customer_create, name="customer-create"),
    path("customers/<uuid:pk>/", claims_views.customer_detail, name="customer-detail"),
    path("customers/<uuid:customer_id>/policies/new/", policies_views.policy_create,
         name="policy-create"),
    path("customers/<uuid:customer_id>/quotes/new/", policies_views.quote_create,
         name="quote-create"),
    path("customers/<uuid:customer_id>/quotes/preview/", policies_views.quote_preview,
         name="quote-preview"),
    path("quotes/<uuid:pk>/", policies_views.quote_detail, name="quote-detail"),
    path("quotes/<uuid:pk>/bind/", policies_views.quote_bind, name="quote-bind"),
    path("policies/<uuid:pk>/", claims_views.policy_detail, name="policy-detail"),
    path("policies/<uuid:pk>/endorse/", policies_views.endorsement_create,
         name="policy-endorse"),
    path("policies/<uuid:pk>/cancel/", policies_views.policy_cancel, name="policy-cancel"),
    path("policies/<uuid:policy_id>/claims/new/", claims_views.claim_report,
         name="claim-report"),
    path("claims/", claims_views.claim_list, name="claim-list"),
    path("claims/<uuid:pk>/", documents_views.claim_detail, name="claim-detail"),
    path("claims/<uuid:pk>/notes/", claims_views.claim_note_add, name="claim-note-add"),
    path("claims/<uuid:pk>/documents/", documents_views.document_upload,
         name="document-upload"),
    path("documents/<uuid:pk>/download/", documents_views.document_download,
         name="document-download"),
    path("settings/notifications/", events_views.notification_settings,
         name="notification-settings"),
]
