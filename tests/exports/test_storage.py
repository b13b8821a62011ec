"""Exports published to an S3-compatible store (a local moto server here) stream back through
the API exactly as they were written."""

import hashlib

import boto3
import pytest
from moto.server import ThreadedMotoServer

from exports import services
from rlplatform.services import job_execute
from tests.conftest import key_client
from tests.factories import play_episode

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "snapshot"]),
    pytest.mark.usefixtures("exports_run_here"),
]


@pytest.fixture
def s3_storage(settings):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials).create_bucket(
        Bucket="datasets"
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "datasets",
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "location": "rlp",
                "default_acl": None,
                "file_overwrite": True,
            },
        },
    }
    # (Changing STORAGES resets Django's storages, so default_storage is now this bucket.)
    yield boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    server.stop()


def test_an_export_goes_to_s3_and_downloads_through_the_api(manager, s3_storage):
    play_episode(user=manager, env_id="bank-v1", family="transfer_funds", seed=1)
    export = services.export_start(
        kind="trajectories", format="parquet", filters={}, created_by=manager
    )
    job_execute(job_id=export.job_id, handler=services.export_run)
    export.refresh_from_db()
    assert export.is_published, export.job.error
    keys = {obj["Key"] for obj in s3_storage.list_objects_v2(Bucket="datasets")["Contents"]}
    assert keys == {
        f"rlp/exports/{export.pk}/data.parquet",
        f"rlp/exports/{export.pk}/manifest.json",
    }

    exporter = key_client(scopes=["export"], owner=manager)
    download = exporter.get(f"/api/v1/exports/{export.pk}/files/data.parquet")
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == export.files[0]["sha256"]
