"""OpenEnv sessions over WebSockets, against the production process layout on this machine.

    .venv/bin/python bench/openenv.py [--duration 10] [--sessions 1,64,256] [--deflate]

1. Steps per second and p50/p99 step latency at each number of concurrent sessions, each session
   stepping as fast as its replies come (one step in flight per session, as an OpenEnv client
   does), every step persisted. Sessions replay scripted-solver actions recorded beforehand and
   reset to the next task when one ends.
2. How many stepping sessions the server holds before the median step latency doubles.
3. How many sessions can be open at once (8 stepping, the rest idle) before the stepping ones'
   median latency doubles; none may be refused with CAPACITY_REACHED up to 512.
4. The layout question: the agent's HTTP API served by uvicorn (ASGI, where Django runs sync
   views on one thread per process) against gunicorn (WSGI, gthread), alone and while 64
   WebSocket sessions step.

Uses its own database (`rlplatform_bench_openenv`, recreated each run) and Redis database 14.
Clients are separate processes on the same two cores as the server and PostgreSQL, so the
figures are a floor; other work on the machine makes them noisy.
"""

import sys
from pathlib import Path

# This script is named like openenv-core's `openenv` package, and bench/ holds a `queue.py` that
# multiprocessing would import instead of the standard library's: the repository goes on the
# path, this folder does not.
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

from bench import common, env_step  # noqa: E402
from bench.common import stop, wait_healthy  # noqa: E402

ROOT = common.ROOT
RESULT_TIMEOUT = 600


def server_env(**extra: str) -> dict[str, str]:
    return common.server_env(
        OPENENV_MAX_SESSIONS="1100",
        OPENENV_IDLE_TIMEOUT_SECONDS="600",
        OPENENV_STEP_TIMEOUT_SECONDS="60",
        **extra,
    )


# deploy/compose.yaml serves OpenEnv without permessage-deflate; --deflate measures with it.
DEFLATE = False
WS_IMPLEMENTATION = "auto"


def start_uvicorn(port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/uvicorn"),
            "rlplatform.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
            "--ws-per-message-deflate",
            str(DEFLATE).lower(),
            "--ws",
            WS_IMPLEMENTATION,
        ],
        cwd=ROOT,
        env=server_env(),
        start_new_session=True,
    )
    wait_healthy(port, process, "uvicorn")
    return process


# --- WebSocket clients ---------------------------------------------------------------------


async def _session(url, key, scripts, offset, deadline, stepping, latencies, counts):
    from websockets.asyncio.client import connect

    async with connect(
        url, additional_headers={"Authorization": f"Bearer {key}"}, max_size=2**24, open_timeout=60
    ) as ws:
        index = offset
        while True:
            script = scripts[index % len(scripts)]
            index += 7
            await ws.send(
                json.dumps(
                    {
                        "type": "reset",
                        "data": {"task_name": script["family"], "seed": script["seed"]},
                    }
                )
            )
            reply = json.loads(await ws.recv())
            if reply["type"] != "observation":
                counts["errors"] += 1
                if reply["data"].get("code") == "CAPACITY_REACHED":
                    counts["refused"] += 1
                    return
                continue
            counts["resets"] += 1
            if not stepping:
                # Held open, idle, until the deadline.
                await asyncio.sleep(max(0.0, deadline - time.monotonic()))
                return
            for action in script["actions"]:
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                await ws.send(json.dumps({"type": "step", "data": {"action_str": action}}))
                reply = json.loads(await ws.recv())
                latencies.append(time.perf_counter() - started)
                if (
                    reply["type"] != "observation"
                    or reply["data"]["observation"]["last_action_error"]
                ):
                    counts["errors"] += 1
                if reply["type"] == "observation" and reply["data"]["done"]:
                    break
            if time.monotonic() >= deadline:
                return


def _client_process(url, key, scripts, offsets, idle, deadline, results):
    async def run():
        latencies: list[float] = []
        counts = {"errors": 0, "resets": 0, "refused": 0}
        tasks = [
            _session(url, key, scripts, offset, deadline, True, latencies, counts)
            for offset in offsets
        ] + [
            _session(url, key, scripts, 10_000 + i, deadline, False, [], counts)
            for i in range(idle)
        ]
        await asyncio.gather(*tasks, return_exceptions=False)
        return latencies, counts

    try:
        latencies, counts = asyncio.run(run())
    except Exception as error:  # report, never leave the parent waiting
        latencies, counts = [], {"errors": 1, "resets": 0, "refused": 0, "failed": repr(error)}
    results.put((latencies, counts))


def websocket_load(port, key, scripts, sessions, duration, idle=0, clients=2):
    """Run `sessions` stepping (and `idle` open but idle) sessions for `duration` seconds."""
    url = f"ws://127.0.0.1:{port}/openenv/bank-v1/ws"
    results = multiprocessing.Queue()
    deadline = time.monotonic() + duration
    clients = min(clients, max(1, sessions))
    processes = []
    for client in range(clients):
        offsets = [i * 13 for i in range(client, sessions, clients)]
        processes.append(
            multiprocessing.Process(
                target=_client_process,
                args=(url, key, scripts, offsets, idle // clients, deadline, results),
            )
        )
    for process in processes:
        process.start()
    latencies, counts = [], {"errors": 0, "resets": 0, "refused": 0}
    for _ in processes:
        got, seen = results.get(timeout=duration + RESULT_TIMEOUT)
        if "failed" in seen:
            print(f"  a client failed: {seen.pop('failed')}", file=sys.stderr)
        latencies += got
        for name, value in seen.items():
            counts[name] += value
    for process in processes:
        process.join()
    return latencies, counts


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def row(label, latencies, duration, counts) -> str:
    return (
        f"| {label} | {len(latencies) / duration:,.0f} | {percentile(latencies, 0.5):.1f} | "
        f"{percentile(latencies, 0.99):.1f} | {counts['errors']} |"
    )


# --- HTTP API clients (the agent API, for the layout comparison) ---------------------------


def api_load(port, key, scripts, clients, duration):
    results = multiprocessing.Queue()
    deadline = time.monotonic() + duration
    processes = [
        multiprocessing.Process(
            target=env_step.single_client, args=(port, key, scripts, i, deadline, results)
        )
        for i in range(clients)
    ]
    for process in processes:
        process.start()
    latencies, errors = [], 0
    for _ in processes:
        got, failed = results.get(timeout=duration + RESULT_TIMEOUT)
        latencies += got
        errors += failed
    for process in processes:
        process.join()
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument(
        "--sessions", type=lambda s: [int(x) for x in s.split(",")], default=[1, 64, 256]
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn processes")
    parser.add_argument(
        "--sweep",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    )
    parser.add_argument("--sweep-duration", type=float, default=5.0)
    parser.add_argument(
        "--open",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[8, 64, 256, 512, 1024],
        help="open-session counts for the idle sweep",
    )
    parser.add_argument("--stepping", type=int, default=8, help="stepping sessions in it")
    parser.add_argument("--api-clients", type=int, default=8)
    parser.add_argument("--skip-layout", action="store_true")
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="serve WebSockets with permessage-deflate, uvicorn's default (deploy/ turns it off)",
    )
    parser.add_argument("--ws", default="auto", help="uvicorn's WebSocket implementation")
    args = parser.parse_args()
    global DEFLATE, WS_IMPLEMENTATION
    DEFLATE = args.deflate
    WS_IMPLEMENTATION = args.ws

    key = env_step.new_agent_key()
    scripts = [s for s in env_step.record_scripts(per_family=6) if s["environment"] == "bank-v1"]
    port = common.free_port()

    server = start_uvicorn(port, args.workers)
    try:
        print(
            f"\n## OpenEnv over WebSockets: uvicorn ({args.workers} processes"
            f"{', permessage-deflate' if DEFLATE else ', no permessage-deflate, as deployed'}) "
            f"+ PostgreSQL, {args.duration:.0f} s per row, every step persisted\n"
        )
        print("| sessions | steps/s | p50 ms | p99 ms | errors |")
        print("|---:|---:|---:|---:|---:|")
        websocket_load(port, key, scripts, 4, 2)  # warm-up: connections, caches, workers
        for sessions in args.sessions:
            latencies, counts = websocket_load(port, key, scripts, sessions, args.duration)
            print(row(str(sessions), latencies, args.duration, counts), flush=True)

        print(
            f"\n### Stepping sessions until the median step latency doubles "
            f"({args.sweep_duration:.0f} s each)\n"
        )
        print("| sessions | steps/s | p50 ms | p99 ms | errors |")
        print("|---:|---:|---:|---:|---:|")
        baseline = None
        doubled = None
        for sessions in args.sweep:
            latencies, counts = websocket_load(port, key, scripts, sessions, args.sweep_duration)
            print(row(str(sessions), latencies, args.sweep_duration, counts), flush=True)
            median = statistics.median(latencies) if latencies else float("inf")
            baseline = baseline or median
            if doubled is None and median > 2 * baseline:
                doubled = sessions
        print(
            "\n"
            + (
                f"The median step latency first doubled (from one session's) at {doubled} "
                "stepping sessions."
                if doubled
                else f"The median step latency did not double up to {args.sweep[-1]} sessions."
            )
        )

        print(
            f"\n### Open sessions, {args.stepping} of them stepping and the rest idle, until the "
            f"stepping ones' median latency doubles ({args.sweep_duration:.0f} s each)\n"
        )
        print("| open | steps/s | p50 ms | p99 ms | refused (CAPACITY_REACHED) |")
        print("|---:|---:|---:|---:|---:|")
        baseline, doubled = None, None
        for open_sessions in args.open:
            latencies, counts = websocket_load(
                port,
                key,
                scripts,
                args.stepping,
                args.sweep_duration,
                idle=max(0, open_sessions - args.stepping),
            )
            print(
                f"| {open_sessions} | {len(latencies) / args.sweep_duration:,.0f} | "
                f"{percentile(latencies, 0.5):.1f} | {percentile(latencies, 0.99):.1f} | "
                f"{counts['refused']} |",
                flush=True,
            )
            median = statistics.median(latencies) if latencies else float("inf")
            baseline = baseline or median
            if doubled is None and median > 2 * baseline:
                doubled = open_sessions
        print(
            f"\nBaseline: {args.open[0]} open. "
            + (
                f"The stepping sessions' median latency first doubled at {doubled} open sessions."
                if doubled
                else f"The stepping sessions' median latency did not double up to {args.open[-1]} "
                "open sessions."
            )
        )
    finally:
        stop(server)

    if args.skip_layout:
        return
    print(
        f"\n## Layout: the agent's HTTP API ({args.api_clients} clients) on uvicorn or gunicorn, "
        "alone and beside 64 stepping WebSocket sessions\n"
    )
    print("| layout | API steps/s | API p50 ms | API p99 ms | WS steps/s | WS p50 ms | WS p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    layouts = [
        ("everything on uvicorn (2 processes)", "uvicorn", None),
        ("API on gunicorn (2 x 4 threads), /openenv/ on uvicorn (1)", "gunicorn", "uvicorn"),
    ]
    for label, api_server, _ in layouts:
        api_port = common.free_port()
        processes = []
        try:
            if api_server == "uvicorn":
                processes.append(start_uvicorn(api_port, 2))
                ws_port = api_port
            else:
                processes.append(common.start_gunicorn(api_port, 2, 4, env=server_env()))
                ws_port = common.free_port()
                processes.append(start_uvicorn(ws_port, 1))
            alone, _ = api_load(
                api_port,
                key,
                env_step.record_scripts(per_family=2),
                args.api_clients,
                args.duration,
            )
            results = multiprocessing.Queue()

            def ws_side(queue=results, port=ws_port):
                queue.put(websocket_load(port, key, scripts, 64, args.duration))

            ws_thread = multiprocessing.Process(target=ws_side)
            ws_thread.start()
            together, _ = api_load(
                api_port,
                key,
                env_step.record_scripts(per_family=2),
                args.api_clients,
                args.duration,
            )
            ws_latencies, _ = results.get()
            ws_thread.join()
            print(
                f"| {label}: API alone | {len(alone) / args.duration:,.0f} | "
                f"{percentile(alone, 0.5):.1f} | {percentile(alone, 0.99):.1f} | | | |"
            )
            print(
                f"| {label}: both | {len(together) / args.duration:,.0f} | "
                f"{percentile(together, 0.5):.1f} | {percentile(together, 0.99):.1f} | "
                f"{len(ws_latencies) / args.duration:,.0f} | {percentile(ws_latencies, 0.5):.1f} | "
                f"{percentile(ws_latencies, 0.99):.1f} |",
                flush=True,
            )
        finally:
            for process in processes:
                stop(process)


if __name__ == "__main__":
    main()
