"""Evaluations played in the test's own process: started through the service, each planned
episode run by the rollout service as a worker would run it."""

from environments.models import RolloutItem
from environments.rollouts import rollout_item_run
from evaluations import services
from evaluations.models import Evaluation


def evaluated(*, user, **fields) -> Evaluation:
    """A finished evaluation: bank-v1's test split, scripted, unless `fields` say otherwise."""
    arguments = {
        "environment": "bank-v1",
        "split": "test",
        "families": ["pay_bill", "statement_balance"],
        "tasks_per_family": 1,
        "attempts": 2,
        "policy": {"kind": "scripted"},
        **fields,
    }
    evaluation = services.evaluation_start(user=user, **arguments)
    for item_id in RolloutItem.objects.filter(job=evaluation.job).values_list("pk", flat=True):
        rollout_item_run(item_id=item_id)
    return Evaluation.objects.select_related("job").get(pk=evaluation.pk)
