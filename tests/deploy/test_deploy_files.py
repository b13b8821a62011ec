"""The container image and the compose stack, checked by reading them: no Docker engine runs on
the machines this suite runs on, so they cannot be built or started here."""

import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SECRET_NAMES = re.compile(r"(SECRET_KEY|PASSWORD|ACCESS_KEY|API_KEY|TOKEN)", re.IGNORECASE)


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_stack_runs_every_process_the_platform_needs():
    services = compose()["services"]
    assert {"db", "redis", "migrate", "web", "openenv", "beat", "proxy"} <= set(services)
    queues = {
        service["command"][service["command"].index("--queues") + 1]
        for name, service in services.items()
        if name.startswith("worker-")
    }
    assert queues == {"default", "rollouts", "exports"}
    assert "gunicorn" in services["web"]["command"][0]
    assert services["openenv"]["command"][0] == "uvicorn"


def test_every_long_running_service_has_a_healthcheck():
    for name, service in compose()["services"].items():
        if name == "migrate":
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_no_secret_is_written_in_the_compose_file():
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAMES.search(key):
                assert str(value).startswith("${"), f"{name}: {key} is written in the file"
            assert "CHANGE-ME" not in str(value)
        env_files = service.get("env_file")
        if env_files:
            assert env_files == ".env"


def test_the_image_runs_as_a_user_with_static_files_and_a_healthcheck():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert re.search(r"^USER rlplatform$", dockerfile, re.MULTILINE)
    assert "collectstatic --noinput" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert not re.search(r"^ENV .*SECRET_KEY", dockerfile, re.MULTILINE)


def test_every_setting_the_platform_reads_is_listed_in_env_example():
    root = DEPLOY.parent
    read = set()
    for path in [root / "rlplatform" / "settings.py", *root.glob("*/openenv/*.py")]:
        read |= set(re.findall(r'env_(?:bool|int|list)\("([A-Z_]+)"', path.read_text()))
        read |= set(re.findall(r'os\.environ(?:\.get)?[\(\[]"([A-Z_0-9]+)"', path.read_text()))
    listed = set(re.findall(r"^([A-Z_0-9]+)=", (DEPLOY / ".env.example").read_text(), re.M))
    assert read - listed == set(), "settings missing from deploy/.env.example"
