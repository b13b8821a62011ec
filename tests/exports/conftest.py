import pytest


@pytest.fixture
def exports_run_here(monkeypatch):
    """Export jobs and webhook deliveries are not sent to the broker: the test runs them
    itself, so a worker left running by other tests cannot race it."""
    monkeypatch.setattr("rlplatform.services.job_dispatch", lambda **kwargs: None)
    monkeypatch.setattr("exports.tasks.deliver_webhook.delay", lambda *args: None)
