"""The work queue: the highest-priority item that still needs judgments, never the same item
twice to one contractor, never beyond its overlap, gold mixed in, qualification first,
and correct when many contractors ask at once."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from labeling import services
from labeling.models import (
    Assignment,
    AssignmentStatus,
    ContractorStanding,
    Judgment,
    StandingStatus,
    WorkItem,
)
from labeling.queue import next_item_for
from rlplatform.models import Role
from rlplatform.services import NotAllowed, ServiceError
from tests.factories import GOOD_ANSWERS, UserFactory, make_campaign, make_gold_item

pytestmark = pytest.mark.django_db


def submit(assignment, contractor, answers=None, key=None):
    return services.judgment_submit(
        assignment=assignment,
        contractor=contractor,
        answers=answers or GOOD_ANSWERS[assignment.campaign.kind],
        idempotency_key=key or f"key-{assignment.pk}",
    )


def work_through(campaign, contractor, limit=100) -> list[int]:
    """Judge items until the queue is empty; return the item ids in the order received."""
    seen = []
    for _ in range(limit):
        assignment = next_item_for(contractor=contractor, campaign=campaign)
        if assignment is None:
            break
        seen.append(assignment.item_id)
        submit(assignment, contractor)
    return seen


def test_items_come_highest_priority_first_then_oldest(manager, contractor):
    campaign = make_campaign(owner=manager, items=3, overlap=1)
    first, second, third = campaign.items.order_by("id")
    services.item_update(item=third, changed_by=manager, priority=5)
    assert work_through(campaign, contractor) == [third.pk, first.pk, second.pk]


def test_a_contractor_never_gets_the_same_item_twice(grade_campaign, contractor):
    seen = work_through(grade_campaign, contractor)
    assert sorted(seen) == sorted(grade_campaign.items.values_list("pk", flat=True))
    assert next_item_for(contractor=contractor, campaign=grade_campaign) is None


def test_an_item_stops_being_handed_out_once_it_has_its_judgments(manager, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=2)
    first, second, third = contractors
    work_through(campaign, first)
    work_through(campaign, second)
    assert next_item_for(contractor=third, campaign=campaign) is None
    item = campaign.items.get()
    assert item.judgment_count == 2 and item.remaining == 0 and item.status == "complete"


def test_a_leased_item_counts_against_its_overlap(manager, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=1)
    assert next_item_for(contractor=contractors[0], campaign=campaign) is not None
    assert next_item_for(contractor=contractors[1], campaign=campaign) is None


def test_asking_again_before_submitting_resumes_the_same_lease(grade_campaign, contractor):
    first = next_item_for(contractor=contractor, campaign=grade_campaign)
    again = next_item_for(contractor=contractor, campaign=grade_campaign)
    assert again.pk == first.pk
    assert Assignment.objects.filter(contractor=contractor).count() == 1


def test_a_lapsed_lease_nobody_took_is_renewed_for_its_holder(grade_campaign, contractor):
    first = next_item_for(contractor=contractor, campaign=grade_campaign)
    later = timezone.now() + timedelta(hours=1)
    resumed = next_item_for(contractor=contractor, campaign=grade_campaign, now=later)
    assert resumed.pk == first.pk
    assert resumed.expires_at > later


def test_without_a_campaign_the_highest_priority_campaign_with_work_is_used(manager, contractor):
    low = make_campaign(owner=manager, items=1, overlap=1, priority=1, name="low")
    high = make_campaign(owner=manager, items=1, overlap=1, priority=9, name="high")
    assert next_item_for(contractor=contractor).campaign_id == high.pk
    submit(next_item_for(contractor=contractor), contractor)
    assert next_item_for(contractor=contractor).campaign_id == low.pk


def test_a_campaign_that_is_not_active_hands_out_nothing(manager, contractor):
    campaign = make_campaign(owner=manager, status="draft")
    with pytest.raises(ServiceError, match="is draft; it hands out no work"):
        next_item_for(contractor=contractor, campaign=campaign)
    assert next_item_for(contractor=contractor) is None


def test_eligibility_by_group_or_skill(manager, contractors):
    campaign = make_campaign(owner=manager, eligible_groups=["night"], eligible_skills=["bank"])
    outsider, grouped, skilled = contractors
    services.contractor_profile_set(user=grouped, changed_by=manager, groups=["night"], skills=[])
    services.contractor_profile_set(user=skilled, changed_by=manager, groups=[], skills=["bank"])
    with pytest.raises(NotAllowed, match="for contractors with the groups night or the skills"):
        next_item_for(contractor=outsider, campaign=campaign)
    assert next_item_for(contractor=outsider) is None
    assert next_item_for(contractor=grouped, campaign=campaign) is not None
    assert next_item_for(contractor=skilled) is not None


def test_gold_items_are_mixed_in_at_the_campaigns_rate_and_served_once(manager):
    campaign = make_campaign(owner=manager, items=20, overlap=4, gold_rate=0.3)
    gold_ids = {make_gold_item(campaign, answer={"outcome": 4}).pk for _ in range(20)}
    draws = []
    for contractor in UserFactory.create_batch(4, role=Role.CONTRACTOR):
        seen = work_through(campaign, contractor, limit=20)
        assert len(set(seen)) == len(seen)
        draws += seen
    # About 30% of 80 draws (a keyed hash decides each): never none, never most.
    served_gold = [item for item in draws if item in gold_ids]
    assert 10 <= len(served_gold) <= 40
    # Gold items are not bound by overlap: several contractors get the same one.
    assert max(Counter(served_gold).values()) > 1


def test_with_no_gold_rate_no_gold_item_is_served(manager, contractor):
    campaign = make_campaign(owner=manager, items=3, overlap=1)
    gold = make_gold_item(campaign, answer={"outcome": 4})
    assert gold.pk not in work_through(campaign, contractor)


def test_qualification_items_come_first_and_passing_opens_the_campaign(manager, contractor):
    campaign = make_campaign(
        owner=manager, items=2, overlap=1, status="draft", qualification_size=2
    )
    qualification = [
        make_gold_item(campaign, answer={"outcome": 4}, qualification=True) for _ in range(2)
    ]
    campaign = services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    first = next_item_for(contractor=contractor, campaign=campaign)
    assert first.item_id in {item.pk for item in qualification}
    submit(first, contractor)
    second = next_item_for(contractor=contractor, campaign=campaign)
    assert second.item_id in {item.pk for item in qualification}
    submit(second, contractor)
    standing = ContractorStanding.objects.get(contractor=contractor, campaign=campaign)
    assert standing.status == StandingStatus.ACTIVE and standing.qualified_at is not None
    third = next_item_for(contractor=contractor, campaign=campaign)
    assert not third.item.is_gold


def test_failing_qualification_pauses_the_contractor_with_the_reason(manager, contractor):
    campaign = make_campaign(owner=manager, items=2, status="draft", qualification_size=1)
    make_gold_item(campaign, answer={"outcome": 5}, qualification=True)
    campaign = services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    submit(next_item_for(contractor=contractor, campaign=campaign), contractor, {"outcome": 1,
           "checks": {"goal_met": False, "no_collateral": False}})  # fmt: skip
    with pytest.raises(NotAllowed, match="You did not pass qualification: 0% correct on 1"):
        next_item_for(contractor=contractor, campaign=campaign)


def test_a_campaign_needing_more_qualification_items_than_it_has_cannot_start(manager):
    campaign = make_campaign(owner=manager, status="draft", qualification_size=3)
    with pytest.raises(ServiceError, match="asks for 3 qualification items and the campaign has 0"):
        campaign = services.campaign_set_status(
            campaign=campaign, status="active", changed_by=manager
        )


def test_the_next_item_path_is_a_handful_of_queries(grade_campaign, contractor):
    from django.test.utils import CaptureQueriesContext

    next_item_for(contractor=contractor, campaign=grade_campaign)  # the standing exists now
    submit(Assignment.objects.get(contractor=contractor), contractor)
    with CaptureQueriesContext(connection) as queries:
        assert next_item_for(contractor=contractor, campaign=grade_campaign) is not None
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(statements) <= 8, statements


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_many_contractors_asking_at_once_never_over_assign_nor_repeat_an_item():
    """Twelve contractors, each in its own thread and connection, ask for and judge items at
    once (each also double-asks, as a double click would). On PostgreSQL the items are taken
    with SKIP LOCKED; on SQLite the transactions are serialised."""
    manager = UserFactory(role=Role.MANAGER)
    campaign = make_campaign(owner=manager, items=15, overlap=3)
    workers = UserFactory.create_batch(12, role=Role.CONTRACTOR)
    errors: list[BaseException] = []
    start = threading.Barrier(len(workers))

    def work(contractor):
        try:
            start.wait()
            for _ in range(10):
                got = [next_item_for(contractor=contractor, campaign=campaign) for _ in range(2)]
                if got[0] is None:
                    break
                assert got[1] is not None and got[1].pk == got[0].pk
                submit(got[0], contractor)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(person,)) for person in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, [str(error) for error in errors]

    per_item = Counter(Judgment.objects.values_list("item_id", flat=True))
    assert set(per_item.values()) == {3}  # every item judged exactly to its overlap
    assert len(per_item) == 15
    pairs = Assignment.objects.values("item", "contractor").annotate(n=Count("id"))
    assert all(pair["n"] == 1 for pair in pairs)
    assert not Assignment.objects.filter(status=AssignmentStatus.ACTIVE).exists()
    assert set(WorkItem.objects.values_list("remaining", flat=True)) == {0}
