"""Writes of the exports app: snapshot exports, their webhooks, and the incremental feeds."""

import hashlib
import hmac
import json
import logging
import secrets
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.utils import timezone

from exports.kinds import KINDS, LEFT_OUT_REASONS, SCHEMA_VERSION
from exports.lengths import RowLengths, tokenizer_dir
from exports.models import Export, ExportFormat, Webhook, WebhookDelivery
from exports.selectors import read_scope_for
from exports.writers import WRITERS, sha256_of
from rlplatform import outbound
from rlplatform.models import Job, User
from rlplatform.services import ServiceError, job_create

logger = logging.getLogger(__name__)

SNAPSHOT = "snapshot"


def export_start(*, kind: str, format: str, filters: dict[str, Any], created_by: User) -> Export:
    """Start an export job on the exports queue. `filters` are already validated; the kind's
    defaults apply where they are silent."""
    if kind not in KINDS:
        raise ServiceError(f"unknown export kind '{kind}'; kinds: {', '.join(KINDS)}", field="kind")
    if format not in ExportFormat.values:
        raise ServiceError(
            f"unknown format '{format}'; formats: {', '.join(ExportFormat.values)}",
            field="format",
        )
    filters = {**KINDS[kind].default_filters, **filters}
    if not filters.get("campaigns"):
        filters.pop("campaigns", None)  # none named: every campaign in the creator's scope
    scope = read_scope_for(user=created_by)
    if scope.campaigns is not None:
        outside = [pk for pk in filters.get("campaigns", []) if pk not in scope.campaigns]
        if outside:
            raise ServiceError(
                f"no campaign {', '.join(map(str, outside))} that you manage",
                field="filters.campaigns",
            )
    KINDS[kind].options(filters)
    if filters.get("tokenizer") is not None:
        tokenizer_dir(filters["tokenizer"])
    with transaction.atomic():
        job = job_create(
            kind="export", params={"kind": kind, "format": format}, created_by=created_by
        )
        return Export.objects.create(
            job=job, kind=kind, format=format, filters=filters, created_by=created_by
        )


def _begin_snapshot() -> None:
    """Make the snapshot connection's transaction a consistent, read-only view."""
    connection = connections[SNAPSHOT]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    else:
        # SQLite (WAL): a read transaction sees the database as of its first read.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")


def export_run(job: Job, progress) -> dict[str, Any]:
    """The export job's handler: stream the kind's rows from one snapshot into files in a
    private folder, then publish them with their manifest. A failure or cancellation
    publishes nothing."""
    export = Export.objects.select_related("created_by").get(job=job)
    # An earlier attempt may have published, then died before the job was marked done. Readers
    # may be downloading that snapshot already: it is not written again.
    files = export.files if export.is_published else _write_and_publish(export, progress)
    try:
        webhooks_notify(export=export)
    except Exception:
        # The export is published either way; undelivered notices wait in WebhookDelivery.
        logger.warning("could not queue the webhooks of export %s", export.pk, exc_info=True)
    return {"export": export.pk, "rows": files[0]["rows"], "files": files}


def _write_and_publish(export: Export, progress) -> list[dict[str, Any]]:
    kind = KINDS[export.kind]
    # Read as its creator reads the pages, then: a manager who lost a campaign meanwhile
    # exports nothing of it.
    filters = read_scope_for(user=export.created_by).filters(export.filters)
    workdir = Path(tempfile.mkdtemp(prefix=f"export-{export.pk}-", dir=_tmp_dir()))
    try:
        with transaction.atomic(using=SNAPSHOT):
            _begin_snapshot()
            total = kind.count(filters, SNAPSHOT)
            progress(0, total, "Writing rows")
            schema = kind.schema_for(export.filters)
            batch_rows = kind.rows_per_batch(export.filters)
            writer = WRITERS[export.format](workdir / f"data.{export.format}", schema, batch_rows)
            lengths = RowLengths(export.filters.get("tokenizer"))
            counts: Counter[str] = Counter()
            for row in kind.rows(filters, SNAPSHOT, counts):
                lengths.add(kind.sequences(row))
                writer.write(row)
                if writer.rows % batch_rows == 0:
                    progress(writer.rows, total)
            writer.close()
            left_out = kind.left_out(filters, SNAPSHOT)
        # The last word a cancel can have: after this, the snapshot is published.
        progress(writer.rows, total, "Publishing")
        files = [
            {
                "name": writer.path.name,
                "rows": writer.rows,
                "bytes": writer.path.stat().st_size,
                "sha256": sha256_of(writer.path),
            }
        ]
        manifest = _manifest(export, kind, schema, files, lengths, counts, left_out)
        _publish(export, workdir, files, manifest)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return files


def _tmp_dir() -> Path:
    path = Path(settings.VAR_DIR) / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _manifest(
    export: Export,
    kind,
    schema,
    files: list[dict[str, Any]],
    lengths: RowLengths,
    counts: Counter[str],
    left_out: dict[str, int],
) -> dict[str, Any]:
    """What a reader needs to know of a snapshot: its rows and files, their columns, the
    options the rows were made with, how long the rows are (against TRL's default context),
    counts of rows that took another form, and the labelled items that gave no row."""
    loader = "json" if export.format == "jsonl" else "parquet"
    return {
        "export": export.pk,
        "kind": export.kind,
        "description": kind.description,
        "format": export.format,
        "filters": export.filters,
        "rows": sum(file["rows"] for file in files),
        # Label kinds: the labelled items that gave no row, by reason.
        "left_out": {
            reason: {"items": items, "why": LEFT_OUT_REASONS[reason]}
            for reason, items in left_out.items()
        },
        "files": files,
        "columns": [{"name": field.name, "type": str(field.type)} for field in schema],
        "options": kind.options(export.filters),
        "row_lengths": lengths.summary(),
        "counts": dict(sorted(counts.items())),
        "schema_version": SCHEMA_VERSION,
        "platform_version": settings.PLATFORM_VERSION,
        "created_by": export.created_by.username,
        "created_at": timezone.now().isoformat(),
        "snapshot": "one repeatable-read transaction",
        "load_with": f"datasets.load_dataset('{loader}', data_files='{files[0]['name']}')",
    }


class WrittenFile(File):
    """A file the export wrote in its private folder. Storage on the local disk moves it into
    place (Django's storage does so for a file that names its path) instead of copying it;
    other storage reads it."""

    def temporary_file_path(self) -> str:
        return self.file.name


def _publish(
    export: Export, workdir: Path, files: list[dict[str, Any]], manifest: dict[str, Any]
) -> None:
    """Put the files in storage, then the manifest, then mark the export published: readers
    go by the published mark, so they never see a half-copied snapshot."""
    (workdir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    for name in [*(file["name"] for file in files), "manifest.json"]:
        target = f"{export.storage_prefix}/{name}"
        if default_storage.exists(target):
            default_storage.delete(target)
        with open(workdir / name, "rb") as source:
            default_storage.save(target, WrittenFile(source))
    Export.objects.filter(pk=export.pk).update(
        files=files, manifest=manifest, published_at=timezone.now()
    )


def export_file_open(*, export: Export, name: str):
    """An open file of a published export, for streaming."""
    if not export.is_published:
        raise ServiceError(
            f"export {export.pk} is not ready ({export.job.status})", code="conflict"
        )
    if name not in {file["name"] for file in export.files} | {"manifest.json"}:
        raise ServiceError(f"export {export.pk} has no file '{name}'", code="not_found")
    return default_storage.open(f"{export.storage_prefix}/{name}", "rb")


# Webhooks


def webhook_create(*, url: str, created_by: User) -> Webhook:
    """A webhook to `url`, which must be one the platform may call (rlplatform/outbound.py)."""
    outbound.check_url(url, field="url")
    return Webhook.objects.create(url=url, secret=secrets.token_hex(32), created_by=created_by)


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhooks_notify(*, export: Export) -> None:
    from exports.tasks import deliver_webhook

    for webhook in Webhook.objects.filter(active=True):
        delivery, created = WebhookDelivery.objects.get_or_create(webhook=webhook, export=export)
        if created or delivery.delivered_at is None:
            deliver_webhook.delay(delivery.pk)


def webhook_payload(export: Export) -> bytes:
    base = settings.PUBLIC_URL.rstrip("/")
    body = {
        "event": "export.ready",
        "export": export.pk,
        "kind": export.kind,
        "format": export.format,
        "rows": (export.manifest or {}).get("rows"),
        "manifest_url": f"{base}/api/v1/exports/{export.pk}/files/manifest.json",
        "files": [
            {**file, "url": f"{base}/api/v1/exports/{export.pk}/files/{file['name']}"}
            for file in export.files
        ],
    }
    return json.dumps(body, sort_keys=True).encode()


def webhook_deliver(*, delivery_id: int) -> bool:
    """POST the signed notice once, through the outbound guard; True when delivered (or
    delivered before)."""
    delivery = WebhookDelivery.objects.select_related("webhook", "export").get(pk=delivery_id)
    if delivery.delivered_at is not None:
        return True
    body = webhook_payload(delivery.export)
    headers = {
        "Content-Type": "application/json",
        "X-RLPlatform-Event": "export.ready",
        "X-RLPlatform-Delivery": str(delivery.pk),
        "X-RLPlatform-Signature": webhook_signature(delivery.webhook.secret, body),
    }
    delivery.attempts += 1
    try:
        with outbound.client(timeout=10) as client:
            response = client.post(delivery.webhook.url, content=body, headers=headers)
    except (httpx.HTTPError, outbound.OutboundRefused) as error:
        delivery.last_error = f"{type(error).__name__}: {error}"[:500]
        delivery.save(update_fields=["attempts", "last_error"])
        return False
    delivery.last_status = response.status_code
    if response.is_success:
        delivery.delivered_at = timezone.now()
        delivery.last_error = ""
    else:
        delivery.last_error = outbound.status_line(response)
    delivery.save(update_fields=["attempts", "last_status", "delivered_at", "last_error"])
    return delivery.delivered_at is not None
