"""The first hour on a fresh clone: `make run` installs only what serving needs, the platform
serves without any test-only package, and bin/run's processes (uvicorn and the Celery worker
with its pool) all stop within 10 s of Ctrl-C or of SIGTERM, to the script or to its group."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT, stop_process_group, subprocess_env, wait_for

# Serving a page: what must import with only requirements.txt installed.
SERVE = textwrap.dedent(
    """
    import importlib.abc, json, os, sys

    blocked = set(json.loads(sys.argv[1]))

    class TestOnly(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.partition(".")[0] in blocked:
                raise ImportError(f"{name} is installed only by requirements-dev.txt")

    sys.meta_path.insert(0, TestOnly())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rlplatform.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.template import engines
    from django.urls import URLResolver, get_resolver

    def views(resolver):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                views(pattern)
            else:
                pattern.callback

    views(get_resolver())
    engines["django"].engine.template_libraries
    import rlplatform.asgi, rlplatform.wsgi
    from rlplatform.celery import app

    app.loader.import_default_modules()
    call_command("check")
    print("served without test-only packages")
    """
)


def _requirement_names(path: Path) -> list[Requirement]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _installed_with(requirements: list[Requirement]) -> set[str]:
    """The distributions these requirements install: themselves and all they require."""
    found: set[str] = set()
    todo = [(requirement, frozenset(requirement.extras)) for requirement in requirements]
    while todo:
        requirement, extras = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        found.add(name)
        for line in distribution.requires or []:
            needed = Requirement(line)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in extras | {""}
            ):
                todo.append((needed, frozenset(needed.extras)))
    return found


def test_make_run_installs_only_the_serving_requirements():
    def planned(target: str) -> str:
        return subprocess.run(
            ["make", "-n", target, "VENV=/nonexistent/venv"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    run, test = planned("run"), planned("test")
    assert "-r requirements.txt" in run and "requirements-dev.txt" not in run
    assert "-r requirements-dev.txt" in test


def test_the_platform_serves_without_any_test_only_package():
    serving = _installed_with(_requirement_names(ROOT / "requirements.txt"))
    dev = _installed_with(_requirement_names(ROOT / "requirements-dev.txt"))
    test_only = dev - serving
    assert {"pytest", "playwright", "torch", "schemathesis"} <= test_only
    blocked = sorted(
        module
        for module, distributions in metadata.packages_distributions().items()
        if all(canonicalize_name(name) in test_only for name in distributions)
    )
    result = subprocess.run(
        [sys.executable, "-c", SERVE, json.dumps(blocked)],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "served without test-only packages" in result.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every process started under `pid`, whatever session it moved to."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "how",
    ["SIGTERM to its process group", "SIGTERM to the script", "Ctrl-C"],
)
def test_bin_run_stops_the_web_server_and_the_worker_within_10_seconds(how, tmp_path):
    port = _free_port()
    log = tmp_path / "run.log"
    env = subprocess_env(PORT=str(port), VAR_DIR=str(tmp_path), WORKER_CONCURRENCY="2")
    with open(log, "w") as output:
        run = subprocess.Popen(
            ["bin/run"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    started: set[int] = set()
    try:
        wait_for(
            lambda: (
                (_answers(f"http://127.0.0.1:{port}/healthz") or run.poll() is not None)
                and (
                    "ready." in (tmp_path / "worker.log").read_text()
                    if (tmp_path / "worker.log").exists()
                    else run.poll() is not None
                )
            ),
            timeout=120,
            message="bin/run to serve and its worker to be ready",
        )
        assert run.poll() is None, log.read_text()[-3000:]
        started = _descendants(run.pid)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text() for pid in started)
        assert "uvicorn" in commands and "celery" in commands
        # The worker's pool processes are up too.
        assert len(re.findall("celery", commands)) >= 3

        if how == "SIGTERM to its process group":
            os.killpg(run.pid, signal.SIGTERM)
        elif how == "SIGTERM to the script":
            os.kill(run.pid, signal.SIGTERM)
        else:  # a terminal sends SIGINT to its foreground process group
            os.killpg(run.pid, signal.SIGINT)

        wait_for(
            lambda: run.poll() is not None and not any(_running(pid) for pid in started),
            timeout=10,
            message=f"bin/run and its processes to stop after {how}",
        )
    finally:
        for pid in started | {run.pid}:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        stop_process_group(run)
