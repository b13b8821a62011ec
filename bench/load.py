"""A mixed load: contractors judging, agents stepping and exports running, all at once, against
gunicorn, a Celery worker and PostgreSQL, for a fixed time.

    .venv/bin/python bench/load.py [--seconds 60] [--contractors 4] [--agents 4] [--export-every 10]

Prepares its own database (`rlplatform_bench_load`, recreated each run; Redis database 14, or
BENCH_REDIS_URL): finished episodes of every task family played through the stepping service, a
grade campaign (overlap 3) of `--items` items over them, contractors with passwords, agents and
an exporter with API keys. Then, for `--seconds`, runs at once, each client its own process:

- contractors: each signs in on the sign-in page (session cookie and CSRF token, as a browser
  does), then through the JSON API asks for its next item (`POST /api/v1/queue/next/`), rates
  every step, the outcome and the checks, submits (`POST /api/v1/assignments/{id}/submit/`) and
  asks again, with no pause between items;
- agents: each with its own `agent` key starts an episode (`POST /api/v1/episodes/`: a reset)
  and steps it with scripted-solver actions recorded beforehand until it ends, then resets;
- one exporter with an `export` key starts a `trajectories` export every `--export-every`
  seconds and polls it until its job has finished (on a Celery worker of the `exports` queue).

Prints, per request kind, the count, rate, p50 and p99 latency and the errors (a status other
than the expected one, a transport error, an export that did not succeed), then checks that the
database recorded exactly the judgments and steps the clients were told it did. Exits 1 on any
error. Clients share the machine's cores with the server, the worker and PostgreSQL.
"""

import sys
from pathlib import Path

# bench/ holds a `queue.py` that multiprocessing would import instead of the standard library's:
# the repository goes on the path, this folder does not.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections import defaultdict  # noqa: E402

import httpx  # noqa: E402

from bench.common import (  # noqa: E402
    DATABASE,
    ROOT,
    copy_grade_items,
    free_port,
    prepare_database,
    run_django,
    server_env,
    start_gunicorn,
)
from bench.env_step import percentile, record_scripts  # noqa: E402
from bench.rollouts import start_workers  # noqa: E402

KINDS = (
    "contractor next",
    "contractor submit",
    "agent reset",
    "agent step",
    "export start",
    "export poll",
    "export finished",
)
OVERLAP = 3
REQUEST_TIMEOUT = 60.0
EXPORT_TIMEOUT = 300.0
POLL_SECONDS = 0.2


COLLECT_STATIC = """
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
storage = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}
with override_settings(STORAGES={**settings.STORAGES, "staticfiles": storage}):
    call_command("collectstatic", interactive=False, verbosity=0)
print("ok")
"""


def collect_static() -> None:
    """The sign-in page needs the static files' manifest when DEBUG is off. Collected without
    the production storage's compression, which takes minutes of CPU the bench has no use for;
    the manifest is the same."""
    os.environ["STATIC_ROOT"] = str(ROOT / "var" / "bench" / "static")
    run_django(COLLECT_STATIC)


def setup_django() -> None:
    os.environ.update(server_env())
    import django

    django.setup()


def prepare(scripts: list[dict], items: int, contractors: int, agents: int) -> dict:
    """Users, keys, finished episodes and an active grade campaign; what the clients need."""

    from environments import services as environment_services
    from labeling import services
    from labeling.examples import EXAMPLE_SCHEMAS
    from rlplatform.models import Role
    from rlplatform.services import ServiceError, api_key_create, user_create

    admin = user_create(username="bench-admin", password=None, role=Role.ADMIN)
    manager = user_create(username="bench-manager", password=None, role=Role.MANAGER)
    password = secrets.token_urlsafe(12)
    people = [
        user_create(username=f"bench-contractor-{n}", password=password, role=Role.CONTRACTOR)
        for n in range(contractors)
    ]
    # Keys act for the manager who runs the agents and the exports: their scopes decide.
    agent_keys = [
        api_key_create(name=f"agent {n}", scopes=["agent"], created_by=admin, owner=manager)[1]
        for n in range(agents)
    ]
    export_key = api_key_create(
        name="exporter", scopes=["export"], created_by=admin, owner=manager
    )[1]

    finished = []
    for script in scripts:
        task = environment_services.task_get_or_create(
            env_id=script["environment"], family=script["family"], seed=script["seed"]
        )
        episode = environment_services.episode_create(
            task=task, user=manager, actor_kind="agent", source="bench"
        )
        for action in script["actions"]:
            try:
                episode = environment_services.episode_step(
                    episode_id=episode.pk, action=action
                ).episode
            except ServiceError:
                continue
            if episode.is_finished:
                break
        if not episode.is_finished:
            episode = environment_services.episode_abandon(episode=episode)
        finished.append(episode)

    campaign = services.campaign_create(
        created_by=manager,
        name="bench: grade agent trajectories",
        kind="grade",
        schema=EXAMPLE_SCHEMAS["grade"],
        overlap=OVERLAP,
    )
    copy_grade_items(campaign=campaign, episodes=finished, count=items, overlap=OVERLAP)
    services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    return {
        "campaign": campaign.pk,
        "contractors": [(person.username, password) for person in people],
        "agent_keys": agent_keys,
        "export_key": export_key,
        "episodes": len(finished),
    }


class Recorder:
    """Latencies and errors per request kind, for one client."""

    def __init__(self):
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.problems: list[str] = []

    def call(
        self, kind: str, client: httpx.Client, method: str, path: str, expect: int, **kwargs
    ) -> httpx.Response | None:
        """The response when its status is `expect`, else None (recorded as an error)."""
        started = time.perf_counter()
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            self.fail(kind, f"{method} {path}: {type(error).__name__} {error}")
            return None
        self.latencies[kind].append(time.perf_counter() - started)
        if response.status_code != expect:
            self.fail(kind, f"{method} {path}: {response.status_code} {response.text[:300]}")
            return None
        return response

    def fail(self, kind: str, problem: str) -> None:
        self.errors[kind] += 1
        if len(self.problems) < 5:
            self.problems.append(f"{kind}: {problem}")
        time.sleep(0.1)  # a failing server must not turn the loop into a spin

    def result(self) -> tuple[dict, dict, list]:
        return dict(self.latencies), dict(self.errors), self.problems


def sign_in(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    """Sign in on the sign-in page as a browser does; return the headers the API then needs."""
    client.get("/accounts/sign-in/").raise_for_status()
    response = client.post(
        "/accounts/sign-in/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"],
        },
    )
    if response.status_code != 302:
        raise RuntimeError(f"{username} could not sign in: {response.status_code}")
    # Signing in rotates the CSRF token; the workbench sends the new one with each POST.
    return {"X-CSRFToken": client.cookies["csrftoken"]}


def answers_for(assignment: dict, rng: random.Random) -> dict:
    """What a grader answers to the example grade schema: every step, the outcome, the checks."""
    return {
        "steps": [rng.choice((-1, 0, 1)) for _ in range(assignment["trajectory"]["length"])],
        "outcome": rng.randint(1, 5),
        "checks": {"goal_met": rng.random() < 0.7, "no_collateral": rng.random() < 0.9},
    }


def contractor(base_url, username, password, campaign_id, seconds, start, results) -> None:
    recorder = Recorder()
    rng = random.Random(username)
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        headers = sign_in(client, username, password)
        start.wait()
        deadline = time.monotonic() + seconds
        number = 0
        while time.monotonic() < deadline:
            response = recorder.call(
                "contractor next",
                client,
                "POST",
                "/api/v1/queue/next/",
                200,
                json={"campaign": campaign_id},
                headers=headers,
            )
            if response is None:
                continue
            assignment = response.json()
            number += 1
            recorder.call(
                "contractor submit",
                client,
                "POST",
                f"/api/v1/assignments/{assignment['id']}/submit/",
                201,
                json={
                    "answers": answers_for(assignment, rng),
                    "idempotency_key": f"{username}-{number}",
                    "time_spent_ms": rng.randint(2_000, 30_000),
                },
                headers=headers,
            )
    results.put(recorder.result())


def agent(base_url, key, scripts, offset, seconds, start, results) -> None:
    recorder = Recorder()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        start.wait()
        deadline = time.monotonic() + seconds
        index = offset
        while time.monotonic() < deadline:
            script = scripts[index % len(scripts)]
            index += 7
            response = recorder.call(
                "agent reset",
                client,
                "POST",
                "/api/v1/episodes/",
                201,
                json={k: script[k] for k in ("environment", "family", "seed")},
            )
            if response is None:
                continue
            episode = response.json()["id"]
            for action in script["actions"]:
                if time.monotonic() >= deadline:
                    break
                response = recorder.call(
                    "agent step",
                    client,
                    "POST",
                    f"/api/v1/episodes/{episode}/step/",
                    200,
                    json={"action": action},
                )
                if response is None:
                    break
                if response.json()["status"] != "running":
                    break
    results.put(recorder.result())


def client_process(target, args, start, results) -> None:
    """Run one client; if it fails before the start, break the start for everyone."""
    try:
        target(*args, start, results)
    except threading.BrokenBarrierError:
        pass
    except Exception:
        start.abort()
        results.put(({}, {"client failed": 1}, [traceback.format_exc()]))


def export_once(recorder: Recorder, client: httpx.Client) -> bool:
    """Start a trajectories export and poll it until its job ends; True if it succeeded."""
    started = time.perf_counter()
    response = recorder.call(
        "export start",
        client,
        "POST",
        "/api/v1/exports/",
        202,
        json={"kind": "trajectories", "format": "jsonl"},
    )
    if response is None:
        return False
    export_id = response.json()["id"]
    while time.perf_counter() - started < EXPORT_TIMEOUT:
        time.sleep(POLL_SECONDS)
        response = recorder.call("export poll", client, "GET", f"/api/v1/exports/{export_id}/", 200)
        if response is None:
            continue
        body = response.json()
        if body["job"]["status"] in ("succeeded", "failed", "cancelled"):
            if body["job"]["status"] == "succeeded" and body["published"]:
                recorder.latencies["export finished"].append(time.perf_counter() - started)
                return True
            recorder.fail("export finished", f"export {export_id}: {body['job']}")
            return False
    recorder.fail("export finished", f"export {export_id} still running after {EXPORT_TIMEOUT} s")
    return False


def exporter(base_url, key, every, seconds, start, results) -> None:
    """One export every `every` seconds (or as soon as the last one ended, if it took longer);
    the one running at the end is waited for."""
    recorder = Recorder()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        start.wait()
        deadline = time.monotonic() + seconds
        due = time.monotonic()
        while due < deadline:
            time.sleep(max(0.0, due - time.monotonic()))
            due += every
            export_once(recorder, client)
    results.put(recorder.result())


def recorded_counts() -> tuple[int, int]:
    """(judgments, steps of episodes started through the API) in the database."""
    from django.db import connections

    from environments.models import Step
    from labeling.models import Judgment

    connections.close_all()
    return Judgment.objects.count(), Step.objects.filter(episode__source="api").count()


def run(args, prepared: dict, port: int, scripts: list[dict]) -> int:
    """Run the clients for `args.seconds`, print the table; return the number of errors."""
    base_url = f"http://127.0.0.1:{port}"
    results = multiprocessing.Queue()
    clients = [
        (contractor, (base_url, username, password, prepared["campaign"], args.seconds))
        for username, password in prepared["contractors"]
    ]
    clients += [
        (agent, (base_url, key, scripts, n * 1000, args.seconds))
        for n, key in enumerate(prepared["agent_keys"])
    ]
    clients.append((exporter, (base_url, prepared["export_key"], args.export_every, args.seconds)))
    start = multiprocessing.Barrier(len(clients) + 1)
    processes = [
        multiprocessing.Process(target=client_process, args=(target, client_args, start, results))
        for target, client_args in clients
    ]
    for process in processes:
        process.start()
    try:
        start.wait(timeout=120)
    except threading.BrokenBarrierError:
        # The failed client's report first: terminating it could lose what it sent.
        problems = results.get(timeout=60)[2]
        for process in processes:
            process.terminate()
        raise RuntimeError(f"a client failed before the start: {problems}") from None
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    problems: list[str] = []
    for _ in processes:
        got, failed, said = results.get(timeout=args.seconds + EXPORT_TIMEOUT + REQUEST_TIMEOUT)
        for kind, values in got.items():
            latencies[kind] += values
        for kind, count in failed.items():
            errors[kind] += count
        problems += said
    for process in processes:
        process.join()

    print(
        f"\n## Mixed load: {args.contractors} contractors, {args.agents} agents, an export every "
        f"{args.export_every:.0f} s; gunicorn ({args.workers} workers x {args.threads} threads, "
        f"gthread), one exports worker, PostgreSQL; {args.seconds:.0f} s\n"
    )
    print("| request | count | per s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        values = latencies.get(kind, [])
        count = len(values) + (errors[kind] if kind == "export finished" else 0)
        p50 = f"{percentile(values, 0.5):,.1f}" if values else "-"
        p99 = f"{percentile(values, 0.99):,.1f}" if values else "-"
        print(
            f"| {kind} | {count:,} | {count / args.seconds:,.1f} | {p50} | {p99} | {errors[kind]} |"
        )
    requests = sum(len(latencies.get(kind, [])) for kind in KINDS if kind != "export finished")
    total_errors = sum(errors.values())
    print(
        f"\n{requests:,} requests, {requests / args.seconds:,.0f} a second; errors: {total_errors}"
    )
    for problem in problems:
        print(f"  {problem}")

    judgments, steps = recorded_counts()
    submitted = len(latencies.get("contractor submit", [])) - errors["contractor submit"]
    stepped = len(latencies.get("agent step", [])) - errors["agent step"]
    print(f"Recorded: {judgments:,} judgments ({submitted:,} acknowledged), {steps:,} agent steps "
          f"({stepped:,} acknowledged)")  # fmt: skip
    if (judgments, steps) != (submitted, stepped):
        print("  the database does not hold what the clients were told")
        total_errors += 1
    return total_errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--contractors", type=int, default=4)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--export-every", type=float, default=10.0, help="seconds")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=6, help="scripted episodes per family")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    # Stopped from outside (`timeout`, a CI job's end): still stop the server and the worker.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    print(f"Preparing {DATABASE} ...", flush=True)
    prepare_database()
    collect_static()
    scripts = record_scripts(per_family=args.seeds)
    setup_django()
    prepared = prepare(scripts, args.items, args.contractors, args.agents)
    print(f"{prepared['episodes']} finished episodes, a campaign of {args.items:,} items")
    from django.db import connections

    connections.close_all()  # the client processes must not share the parent's connection

    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    (worker,) = start_workers(1, queues="exports")
    try:
        # One export before the clock starts: the worker is up, and the first one's cost paid.
        warm_up = Recorder()
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {prepared['export_key']}"},
            timeout=REQUEST_TIMEOUT,
        ) as client:
            if not export_once(warm_up, client):
                raise RuntimeError(f"the warm-up export failed: {warm_up.problems}")
        errors = run(args, prepared, port, scripts)
    finally:
        for process in (worker, server):
            process.terminate()
        for process in (worker, server):
            process.wait()
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
