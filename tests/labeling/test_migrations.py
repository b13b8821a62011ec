"""Data migrations of the labeling app, run on rows as an older platform left them."""

import importlib

from django.apps import apps

from labeling.models import Campaign, ReviewStatus, WorkItem
from labeling.queue import next_item_for
from tests.factories import UserFactory, make_campaign
from tests.labeling.test_services import BAD, GOOD, submit

final_label_status = importlib.import_module("labeling.migrations.0002_final_label_status")


def test_old_aggregates_are_decided_again_and_their_ties_go_to_review(db, manager):
    campaign = make_campaign(owner=manager, items=2, overlap=2)
    first, second = UserFactory.create_batch(2, role="contractor")
    for answers in (GOOD, BAD):  # the first item is agreed; the second one splits
        submit(next_item_for(contractor=first, campaign=campaign), first, GOOD)
        submit(next_item_for(contractor=second, campaign=campaign), second, answers)
    # As the platform left them: a tie broken by order, kept out of review below its 0.3
    # threshold, and no word on whether anything was decided.
    agreed, split = WorkItem.objects.filter(campaign=campaign).order_by("pk")
    for item in (split, agreed):
        aggregate = {
            key: value for key, value in item.aggregate.items() if key not in ("status", "decided")
        }
        WorkItem.objects.filter(pk=item.pk).update(aggregate=aggregate, review_status="")
    Campaign.objects.filter(pk=campaign.pk).update(review_threshold=0.3)

    final_label_status.aggregate_again(apps, None)

    split.refresh_from_db()
    agreed.refresh_from_db()
    assert Campaign.objects.get(pk=campaign.pk).review_threshold == 0.5
    assert split.review_status == ReviewStatus.PENDING and split.aggregate["decided"] is False
    assert split.aggregate["status"]["checks"] == "tie"
    assert agreed.review_status == ReviewStatus.NONE and agreed.aggregate["decided"] is True
