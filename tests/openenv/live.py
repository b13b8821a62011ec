"""The ASGI server (uvicorn) as a subprocess on a free loopback port, against the test database,
as production runs it. One server for the whole test session; suites with other limits start
their own."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.conftest import ROOT, subprocess_env


@dataclass
class AsgiServer:
    url: str
    log: Path
    process: subprocess.Popen

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str = "asgi", **settings_env: str) -> AsgiServer:
    port = free_port()
    log = Path(settings.VAR_DIR) / f"{name}-server.log"
    env = subprocess_env(
        DEBUG="true",
        LOG_LEVEL="INFO",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Tests create many sessions and steps; the API throttle is not what they test.
        API_THROTTLE_ANON="100000/min",
        **settings_env,
    )
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "rlplatform.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = AsgiServer(url=f"http://127.0.0.1:{port}", log=log, process=process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{server.url}/openenv/bank-v1/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"the ASGI server did not start:\n{server.log_text()[-3000:]}")


def stop(server: AsgiServer) -> None:
    if server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


@contextmanager
def websocket(url: str, headers: dict | None = None) -> Iterator[ClientConnection]:
    """A WebSocket to a live server that, on leaving, ends its session as OpenEnv's client does
    (a `close` message) and waits for the server to hang up. After a plain disconnect the server
    ends the session's episode on its own time, and that transaction deadlocked with the test's
    teardown emptying the tables."""
    with connect(url, additional_headers=headers or {}, open_timeout=10) as ws:
        yield ws
        with suppress(ConnectionClosed):
            ws.send(json.dumps({"type": "close"}))
            while True:
                ws.recv(timeout=10)


_shared: AsgiServer | None = None


def shared() -> AsgiServer:
    """The session's server, started on first use (by tests/openenv or tests/trainers)."""
    global _shared
    if _shared is None or _shared.process.poll() is not None:
        _shared = start(
            "openenv",
            OPENENV_MAX_SESSIONS="16",
            OPENENV_IDLE_TIMEOUT_SECONDS="120",
        )
    return _shared


def stop_shared() -> None:
    global _shared
    if _shared is not None:
        stop(_shared)
        _shared = None


def solver_actions(env_id: str, family: str, seed: int, variant: str = "default") -> list[str]:
    """The scripted solver's actions for a task in a UI variant, up to the one that ends it on
    the platform (an episode ends as soon as its verifier passes)."""
    from environments.engine import get_environment, run_episode

    env = get_environment(env_id)
    task = env.make_task(family, seed, variant)
    _, actions, outcome = run_episode(env, task, env.solver())
    assert outcome.success, f"the solver fails {env_id}/{family}#{seed}"
    state = env.reset(seed, task)
    for index, action in enumerate(actions):
        state = env.step(state, action)
        if state["finished"] or env.evaluate(state, task).success:
            return actions[: index + 1]
    return actions
