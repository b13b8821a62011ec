import pytest


@pytest.fixture
def exports_run_here(monkeypatch):
    """Export jobs and webhook deliveries are not sent to the broker: the test runs them
    itself, so a worker left running by other tests cannot race it."""
    monkeypatch.setattr("rlplatform.services.job_dispatch", lambda **kwargs: None)
    monkeypatch.setattr("exports.tasks.deliver_webhook.delay", lambda *args: None)


@pytest.fixture(autouse=True)
def _fresh_storage(settings, tmp_path):
    # Export ids start again with every test database; files of an earlier run must not be
    # mistaken for this test's.
    settings.MEDIA_ROOT = tmp_path / "media"
