"""The Celery app: configured from Django settings (CELERY_ namespace), tasks found in each
app's tasks.py. Three queues keep long exports and rollouts from starving quick upkeep work."""

import os
from pathlib import Path

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rlplatform.settings")

app = Celery("rlplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("rollouts"), Queue("exports"))
app.autodiscover_tasks()

# The embedded broker (kombu's filesystem transport) keeps messages in folders it does not
# create itself; every process that sends or consumes makes sure they exist.
if app.conf.broker_url.startswith("filesystem"):
    for folder in ("data_folder_in", "data_folder_out", "control_folder"):
        if path := app.conf.broker_transport_options.get(folder):
            Path(path).mkdir(parents=True, exist_ok=True)
