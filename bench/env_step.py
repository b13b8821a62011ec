"""Environment stepping, in process and over HTTP.

    .venv/bin/python bench/env_step.py [--duration 10] [--clients 1,8,32] [--workers 4]

1. In process: steps per second of every task family, step + render, on one core.
2. Over HTTP, against gunicorn and PostgreSQL on this machine: single-step throughput and p50/p99
   latency at each client count, and batch stepping throughput (each batch of episodes started
   with one batch-create request, as a vectorised rollout resets; its time counts). Every step
   is persisted.

The HTTP part uses its own database (`rlplatform_bench_env_step`, recreated each run) and Redis
database 14. Clients are separate processes replaying scripted-solver actions recorded
beforehand, so their own cost stays small; they still share the machine's two cores with the
server.
"""

import argparse
import http.client
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

# The project root instead of bench/ itself, whose queue.py would shadow the standard library.
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    free_port,
    prepare_database,
    run_django,
    start_gunicorn,
    stop,
)
from environments.engine import list_environments, run_episode
from environments.engine.bench import bench_family


def new_agent_key() -> str:
    prepare_database()
    return run_django(
        "from rlplatform.services import api_key_create, user_create\n"
        "admin = user_create(username='bench', password=None, role='admin')\n"
        "print(api_key_create(name='bench', scopes=['agent'], created_by=admin)[1])\n"
    )


def in_process(seeds: int) -> None:
    print(f"\n## In process, one core ({seeds} seeds of scripted-solver actions per family)\n")
    print(f"| {'family':<34} | {'steps':>6} | {'step+render /s':>14} | {'+axtree /s':>10} |")
    print(f"|{'-' * 36}|{'-' * 8}|{'-' * 16}|{'-' * 12}|")
    totals: dict[str, list[float]] = {}
    for env in list_environments():
        for family in env.families:
            result = bench_family(env.id, family, range(seeds))
            totals.setdefault(env.id, []).append(result["step+render"])
            print(
                f"| {env.id + '/' + family:<34} | {int(result['steps']):>6} "
                f"| {result['step+render']:>14,.0f} | {result['step+render+axtree']:>10,.0f} |"
            )
    for env_id, rates in totals.items():
        median = statistics.median(rates)
        print(f"{env_id}: slowest family {min(rates):,.0f} steps/s, median {median:,.0f}")


def record_scripts(per_family: int) -> list[dict]:
    """Scripted-solver action lists, recorded in process, for the clients to replay."""
    scripts = []
    for env in list_environments():
        for family in env.families:
            for seed in range(per_family):
                task = env.make_task(family, seed)
                _, actions, outcome = run_episode(env, task, env.solver())
                if outcome.success:
                    # The platform ends an episode at success: drop what came after it.
                    states = [env.reset(seed, task)]
                    for action in actions:
                        states.append(env.step(states[-1], action))
                    ended = next(
                        i + 1
                        for i, state in enumerate(states[1:])
                        if env.evaluate(state, task).success or state["finished"]
                    )
                    actions = actions[:ended]
                scripts.append(
                    {"environment": env.id, "family": family, "seed": seed, "actions": actions}
                )
    return scripts


class Client:
    def __init__(self, port: int, key: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        self.connection.request("POST", path, json.dumps(body), self.headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())


def single_client(port, key, scripts, offset, deadline, results) -> None:
    client = Client(port, key)
    latencies, errors, index = [], 0, offset
    while time.monotonic() < deadline:
        script = scripts[index % len(scripts)]
        index += 7
        status, episode = client.post(
            "/api/v1/episodes/",
            {k: script[k] for k in ("environment", "family", "seed")},
        )
        if status != 201:
            errors += 1
            continue
        for action in script["actions"]:
            started = time.perf_counter()
            status, _ = client.post(f"/api/v1/episodes/{episode['id']}/step/", {"action": action})
            latencies.append(time.perf_counter() - started)
            errors += status != 200
            if time.monotonic() >= deadline:
                break
    results.put((latencies, errors))


def batch_client(port, key, scripts, offset, deadline, batch, results) -> None:
    client = Client(port, key)
    latencies, steps, errors = [], 0, 0
    while time.monotonic() < deadline:
        chosen = [scripts[(offset + i * 11) % len(scripts)] for i in range(batch)]
        offset += batch
        status, started = client.post(
            "/api/v1/episodes/batch-create/",
            {"episodes": [{k: s[k] for k in ("environment", "family", "seed")} for s in chosen]},
        )
        if status != 201:
            errors += batch
            continue
        episodes = [
            (episode["id"], list(script["actions"]))
            for episode, script in zip(started["results"], chosen, strict=True)
        ]
        while episodes and time.monotonic() < deadline:
            body = {"steps": [{"episode": ep, "action": actions[0]} for ep, actions in episodes]}
            started = time.perf_counter()
            status, response = client.post("/api/v1/episodes/batch-step/", body)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors += len(episodes)
                break
            errors += sum("error" in r for r in response["results"])
            steps += len(episodes)
            episodes = [(ep, actions[1:]) for ep, actions in episodes if len(actions) > 1]
    results.put((latencies, errors, steps))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def over_http(args) -> None:
    key = new_agent_key()
    scripts = record_scripts(per_family=6)
    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    try:
        print(
            f"\n## Over HTTP: gunicorn ({args.workers} workers x {args.threads} threads, gthread) "
            f"+ PostgreSQL, {args.duration:.0f} s per row\n"
        )
        print("| clients | steps/s | p50 ms | p99 ms | errors |")
        print("|---:|---:|---:|---:|---:|")
        for clients in args.clients:
            results = multiprocessing.Queue()
            deadline = time.monotonic() + args.duration
            processes = [
                multiprocessing.Process(
                    target=single_client, args=(port, key, scripts, i, deadline, results)
                )
                for i in range(clients)
            ]
            for process in processes:
                process.start()
            latencies, errors = [], 0
            for _ in processes:
                got, failed = results.get()
                latencies += got
                errors += failed
            for process in processes:
                process.join()
            print(
                f"| {clients} | {len(latencies) / args.duration:,.0f} | "
                f"{percentile(latencies, 0.5):.1f} | {percentile(latencies, 0.99):.1f} | {errors} |"
            )
        print(f"\nBatch stepping ({args.batch} episodes a request):\n")
        print("| clients | steps/s | request p50 ms | request p99 ms | errors |")
        print("|---:|---:|---:|---:|---:|")
        for clients in args.batch_clients:
            results = multiprocessing.Queue()
            deadline = time.monotonic() + args.duration
            processes = [
                multiprocessing.Process(
                    target=batch_client,
                    args=(port, key, scripts, i * 1000, deadline, args.batch, results),
                )
                for i in range(clients)
            ]
            for process in processes:
                process.start()
            latencies, errors, steps = [], 0, 0
            for _ in processes:
                got, failed, done = results.get()
                latencies += got
                errors += failed
                steps += done
            for process in processes:
                process.join()
            print(
                f"| {clients} | {steps / args.duration:,.0f} | {percentile(latencies, 0.5):.1f} | "
                f"{percentile(latencies, 0.99):.1f} | {errors} |"
            )
    finally:
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument(
        "--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32]
    )
    parser.add_argument("--workers", type=int, default=4)
    # deploy/gunicorn.conf.py's layout on two cores: 2 workers per core, 4 threads each.
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument(
        "--batch-clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4]
    )
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()
    if not args.skip_in_process:
        in_process(args.seeds)
    if not args.skip_http:
        over_http(args)


if __name__ == "__main__":
    main()
