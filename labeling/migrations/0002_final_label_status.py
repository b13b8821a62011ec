"""Aggregates carry, per question, whether they are decided (no tie, confidence at or above the
campaign's review_threshold). Completed items are aggregated again so that the stored label
says so, and those left undecided (ties and splits, which older aggregates broke by order) go
to the review queue. Thresholds below 0.5, where no majority is needed, become 0.5."""

from collections import defaultdict

from django.db import migrations


def aggregate_again(apps, schema_editor):
    from labeling.quality import aggregate_answers

    Campaign = apps.get_model("labeling", "Campaign")
    WorkItem = apps.get_model("labeling", "WorkItem")
    Judgment = apps.get_model("labeling", "Judgment")
    Campaign.objects.filter(review_threshold__lt=0.5).update(review_threshold=0.5)
    for campaign in Campaign.objects.all().iterator():
        items = WorkItem.objects.filter(
            campaign=campaign, is_gold=False, status="complete"
        ).order_by("pk")
        last = 0
        while batch := list(items.filter(pk__gt=last).only("pk", "review_status")[:1000]):
            last = batch[-1].pk
            answers_by_item = defaultdict(list)
            for item_id, answers in (
                Judgment.objects.filter(item__in=batch)
                .order_by("item_id", "id")
                .values_list("item_id", "answers")
            ):
                answers_by_item[item_id].append(answers)
            for item in batch:
                item.aggregate = aggregate_answers(
                    campaign.schema, answers_by_item[item.pk], threshold=campaign.review_threshold
                )
                item.consensus = item.aggregate["consensus"]
                if not item.aggregate["decided"] and item.review_status == "":
                    item.review_status = "pending"
            WorkItem.objects.bulk_update(batch, ["aggregate", "consensus", "review_status"])


class Migration(migrations.Migration):
    dependencies = [("labeling", "0001_initial")]

    operations = [migrations.RunPython(aggregate_again, migrations.RunPython.noop)]
