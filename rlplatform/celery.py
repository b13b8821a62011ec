"""The Celery app: configured from Django settings (CELERY_ namespace), tasks found in each
app's tasks.py. Three queues keep long exports and rollouts from starving quick upkeep work."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rlplatform.settings")

app = Celery("rlplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("rollouts"), Queue("exports"))
app.autodiscover_tasks()
