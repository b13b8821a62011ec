"""`manage.py startenv NAME`: lays out a kit environment that passes the checker as it is."""

from __future__ import annotations

import importlib
import sys

import pytest
from django.core.management import CommandError, call_command

from environments.engine import registry
from environments.engine.check import check_environment, format_reports
from environments.engine.kit.startenv import ENGINE, register_import


@pytest.fixture
def isolated_registry(monkeypatch):
    """Registrations made by the test stay out of the shared registry."""
    monkeypatch.setattr(registry, "_CLASSES", dict(registry._CLASSES))
    monkeypatch.setattr(registry, "_INSTANCES", {})
    yield
    for module in [m for m in sys.modules if m == "clinic_desk" or m.startswith("clinic_desk.")]:
        del sys.modules[module]


def test_the_laid_out_environment_registers_and_passes_the_checker(
    tmp_path, monkeypatch, capsys, isolated_registry
):
    call_command("startenv", "clinic_desk", title="Clinic front desk", directory=tmp_path)
    out = capsys.readouterr().out
    assert "python -m environments.engine.check clinic_desk" in out
    names = sorted(p.name for p in (tmp_path / "clinic_desk").iterdir())
    assert names == ["__init__.py", "site.py", "solver.py", "tasks.py", "world.py"]
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("clinic_desk")
    env = registry.get_environment("clinic_desk")
    assert env.id == "clinic_desk-v1" and env.title == "Clinic front desk"
    assert set(env.families) == {"add_contact", "archive_contact", "change_tier", "count_contacts"}
    reports = check_environment(env, seeds=6)
    assert all(r.passed for r in reports), format_reports(reports)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Clinic", "is not a usable environment name"),
        ("class", "is not a usable environment name"),
        ("x", "is not a usable environment name"),
        ("bank", "environments/engine/bank exists already"),
        ("clinic\n", "is not a usable environment name"),
    ],
)
def test_a_bad_or_taken_name_is_refused(tmp_path, name, message):
    with pytest.raises(CommandError, match=message):
        call_command("startenv", name, directory=tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("title", ['Clinic "desk"', "Clinic\\", "Clinic\ndesk", "Clinic\x00"])
def test_a_title_that_would_break_the_written_modules_is_refused(tmp_path, title):
    with pytest.raises(CommandError, match="is not a usable title"):
        call_command("startenv", "clinic", directory=tmp_path, title=title)
    assert not list(tmp_path.iterdir())


def test_registering_imports_it_after_the_built_in_environments_once(tmp_path):
    init = tmp_path / "__init__.py"
    init.write_text((ENGINE / "__init__.py").read_text())
    built_in = [line for line in init.read_text().splitlines() if line.startswith("from . import")]
    assert "from . import tickets  # noqa: F401  isort: skip" in built_in
    assert register_import("clinic_desk", init)
    assert not register_import("clinic_desk", init)
    lines = init.read_text().splitlines()
    at = lines.index("from . import clinic_desk  # noqa: F401  isort: skip")
    assert lines[at - 1] == built_in[-1]
