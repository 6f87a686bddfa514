from django import forms

from documents.models import DocumentType

ACCEPT = "image/jpeg,image/png,image/gif,application/pdf,.doc,.docx"


class DocumentUploadForm(forms.Form):
    document_type = forms.ChoiceField(label="Kind of document", choices=DocumentType.choices,
                                      initial=DocumentType.PHOTO)
    file = forms.FileField(
        label="File", allow_empty_file=False,
        help_text="JPEG, PNG, GIF, PDF, DOC or DOCX, up to 10 MiB.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
