import django.dispatch

document_downloaded = django.dispatch.Signal()  # sent with document, user, request
