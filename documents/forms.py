from django import forms

from documents.models import DocumentType

ACCEPT = "image/jpeg,image/png,image/gif,application/pdf,.doc,.docx"


class DocumentUploadForm(forms.Form):
    document_type = forms.ChoiceField(
        label="Kind of document", choices=[("", "Choose…"), *DocumentType.choices],
        error_messages={"required": "Choose the kind of document."})
    file = forms.FileField(
        label="File", allow_empty_file=False,
        help_text="JPEG, PNG, GIF, PDF, DOC or DOCX, up to 10 MiB.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
