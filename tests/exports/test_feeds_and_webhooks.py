"""The incremental feed never misses or repeats a row; webhooks are signed and retried;
`manage.py export` runs an export on a real worker with a progress bar."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command

from exports import services
from exports.models import Export, WebhookDelivery
from rlplatform.services import job_execute
from tests.conftest import key_client, signed_in
from tests.factories import play_episode

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "snapshot"])


def test_the_feed_hands_out_each_finished_episode_once_in_publication_order(manager):
    client = key_client(scopes=["export"])
    first = [
        play_episode(user=manager, env_id="bank-v1", family="transfer_funds", seed=s)
        for s in (1, 2, 3)
    ]
    page = client.get("/api/v1/feeds/trajectories/?limit=2").json()
    assert [row["episode_id"] for row in page["results"]] == [e.pk for e in first[:2]]
    assert page["has_more"] is True
    later = play_episode(user=manager, env_id="bank-v1", family="card_controls", seed=4)
    rest = client.get(f"/api/v1/feeds/trajectories/?since={page['next_since']}").json()
    assert [row["episode_id"] for row in rest["results"]] == [first[2].pk, later.pk]
    assert rest["has_more"] is False
    empty = client.get(f"/api/v1/feeds/trajectories/?since={rest['next_since']}").json()
    assert empty["results"] == [] and empty["next_since"] == rest["next_since"]


def test_episodes_still_running_wait_for_a_later_page(manager):
    from environments.services import episode_create, task_get_or_create

    task = task_get_or_create(env_id="bank-v1", family="pay_bill", seed=1)
    running = episode_create(task=task, user=manager)
    client = key_client(scopes=["export"])
    assert client.get("/api/v1/feeds/trajectories/").json()["results"] == []
    from environments.services import episode_abandon

    episode_abandon(episode=running)
    rows = client.get("/api/v1/feeds/trajectories/").json()["results"]
    assert [row["episode_id"] for row in rows] == [running.pk]


class Receiver:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_ready_snapshot_calls_webhooks_signed_and_retried(
    settings, admin_user, manager, exports_run_here
):
    settings.OUTBOUND_ALLOW_PRIVATE = True  # the receiver is on this machine
    receiver = Receiver([503])
    response = signed_in(admin_user).post("/api/v1/webhooks/", {"url": receiver.url}, format="json")
    secret = response.json()["secret"]
    play_episode(user=manager, env_id="bank-v1", family="transfer_funds", seed=1)
    export = services.export_start(
        kind="trajectories", format="jsonl", filters={}, created_by=manager
    )
    job_execute(job_id=export.job_id, handler=services.export_run)
    delivery = WebhookDelivery.objects.get(export=export)
    # What the delivery task does on each of its tries: the receiver is down at first.
    assert services.webhook_deliver(delivery_id=delivery.pk) is False
    assert services.webhook_deliver(delivery_id=delivery.pk) is True
    assert services.webhook_deliver(delivery_id=delivery.pk) is True
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None and delivery.attempts == 2
    assert len(receiver.received) == 2
    headers, body = receiver.received[-1]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-RLPlatform-Signature"] == expected
    payload = json.loads(body)
    assert payload["event"] == "export.ready" and payload["export"] == export.pk
    assert payload["files"][0]["sha256"] == Export.objects.get(pk=export.pk).files[0]["sha256"]
    receiver.server.shutdown()


@pytest.mark.worker
def test_manage_py_export_runs_on_a_worker_and_shows_progress(celery_worker_process, manager):
    play_episode(user=manager, env_id="bank-v1", family="transfer_funds", seed=1)
    out = StringIO()
    call_command(
        "export", "trajectory_steps", "--format", "parquet", "--user", manager.username, stdout=out
    )
    text = out.getvalue()
    assert "100%" in text and "succeeded" in text
    assert "data.parquet:" in text and "sha256" in text
