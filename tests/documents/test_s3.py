"""The S3 path, for real: a local S3-compatible server (moto in server mode) on a
free port, spoken to over HTTP by django-storages and boto3."""

import hashlib
import io
import socket

import boto3
import pytest
from django.core.files.storage import storages
from PIL import Image

from documents.models import Document
from tests.documents import files

BUCKET = "claim-documents-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
               "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint, settings):
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    storages._storages = {}
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)
    storages._storages = {}


def keys(client) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.mark.django_db
def test_s3_upload_download_delete_round_trip(s3, broker_client, claim, upload,
                                              django_capture_on_commit_callbacks):
    from storages.backends.s3 import S3Storage

    assert isinstance(storages["documents"], S3Storage)
    data = files.pdf()
    resp = upload(broker_client, claim, data, name="estimate.pdf", document_type="estimate")
    assert resp.status_code == 201, resp.content
    doc = Document.objects.get(pk=resp.json()["id"])

    # The object is in the bucket under the generated name, private.
    assert keys(s3) == [doc.file.name]
    obj = s3.get_object(Bucket=BUCKET, Key=doc.file.name)
    assert obj["Body"].read() == data
    assert obj["ContentType"] == "application/pdf"
    acl = s3.get_object_acl(Bucket=BUCKET, Key=doc.file.name)
    assert not any("AllUsers" in str(g["Grantee"]) for g in acl["Grants"])

    # Download streams the object back through the guarded view.
    download = broker_client.get(resp.json()["download_url"])
    assert download.status_code == 200
    assert download.streaming
    assert b"".join(download.streaming_content) == data
    assert download["Content-Disposition"] == 'attachment; filename="estimate.pdf"'
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Length"] == str(len(data))

    with django_capture_on_commit_callbacks(execute=True):
        assert broker_client.delete(f"/api/documents/{doc.pk}").status_code == 204
    assert keys(s3) == []


@pytest.mark.django_db
def test_s3_stores_the_reencoded_image_and_nothing_for_rejections(s3, broker_client, claim,
                                                                   upload):
    resp = upload(broker_client, claim, files.jpeg_with_gps(size=(2500, 2500)),
                  name="scene.jpg")
    assert resp.status_code == 201
    [key] = keys(s3)
    stored = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == Document.objects.get().sha256
    img = Image.open(io.BytesIO(stored))
    assert img.size == (1080, 1080) and dict(img.getexif()) == {}

    for data in (files.SHELL_SCRIPT, files.HTML_PAGE, files.png_bomb()):
        assert upload(broker_client, claim, data, name="x.pdf").status_code == 400
    assert keys(s3) == [key]


@pytest.mark.django_db
def test_s3_missing_object_is_404(s3, broker, broker_client, claim, make_document):
    doc = make_document(actor=broker, claim=claim, data=files.pdf())
    s3.delete_object(Bucket=BUCKET, Key=doc.file.name)
    assert broker_client.get(f"/api/documents/{doc.pk}/download").status_code == 404


@pytest.mark.django_db
def test_s3_service_round_trip(s3, broker, claim, make_document):
    data = files.docx()
    doc = make_document(actor=broker, claim=claim, data=data, name="a.docx")
    assert storages["documents"].exists(doc.file.name)
    with storages["documents"].open(doc.file.name) as f:
        assert f.read() == data
