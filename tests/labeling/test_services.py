"""Judgments, skips, leases, gold and pauses, completion and review, campaigns and their items:
the labeling services, seen from their results."""

from datetime import timedelta

import pytest
from django.utils import timezone

from environments.models import EpisodeStatus
from labeling import selectors, services
from labeling.models import (
    Assignment,
    AssignmentStatus,
    ContractorStanding,
    Judgment,
    ReviewStatus,
    StandingStatus,
    WorkItem,
)
from labeling.queue import next_item_for
from labeling.schemas import LabelSchemaError
from rlplatform import services as platform_services
from rlplatform.models import Job, Role
from rlplatform.services import NotAllowed, ServiceError
from tests.factories import (
    GOOD_ANSWERS,
    UserFactory,
    make_campaign,
    make_finished_episode,
    make_gold_item,
    make_labeling_task,
)

pytestmark = pytest.mark.django_db
GOOD = GOOD_ANSWERS["grade"]
BAD = {"outcome": 1, "checks": {"goal_met": False, "no_collateral": False}}


def submit(assignment, contractor, answers=GOOD, key=None, **extra):
    return services.judgment_submit(
        assignment=assignment,
        contractor=contractor,
        answers=answers,
        idempotency_key=key or f"key-{assignment.pk}",
        **extra,
    )


# --- submitting -----------------------------------------------------------------------------


def test_submitting_twice_with_the_same_key_records_one_judgment(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    first = submit(assignment, contractor, key="double-click")
    second = submit(assignment, contractor, key="double-click")
    assert not first.replayed and second.replayed
    assert second.judgment.pk == first.judgment.pk
    assert Judgment.objects.count() == 1
    assert WorkItem.objects.get(pk=assignment.item_id).judgment_count == 1


def test_a_second_answer_with_another_key_is_refused(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    submit(assignment, contractor, key="one")
    with pytest.raises(ServiceError, match="already submitted") as refused:
        submit(assignment, contractor, key="two")
    assert refused.value.code == "conflict"


def test_a_key_cannot_be_reused_for_another_item(grade_campaign, contractor):
    first = next_item_for(contractor=contractor, campaign=grade_campaign)
    submit(first, contractor, key="same")
    second = next_item_for(contractor=contractor, campaign=grade_campaign)
    with pytest.raises(ServiceError, match="already used for another assignment"):
        submit(second, contractor, key="same")


def test_answers_are_checked_against_the_schema(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    with pytest.raises(LabelSchemaError) as refused:
        submit(assignment, contractor, {"outcome": 9})
    assert "question 'outcome': 9 is outside the scale 1 to 5" in refused.value.message
    assert "answers.checks" in refused.value.problems
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.ACTIVE


def test_someone_elses_assignment_cannot_be_submitted(grade_campaign, contractors):
    assignment = next_item_for(contractor=contractors[0], campaign=grade_campaign)
    with pytest.raises(NotAllowed, match="not yours"):
        submit(assignment, contractors[1])


def test_time_spent_is_recorded_as_sent_or_measured(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    judgment = submit(assignment, contractor, time_spent_ms=4200).judgment
    assert judgment.time_spent_ms == 4200
    other = next_item_for(contractor=contractor, campaign=grade_campaign)
    later = other.leased_at + timedelta(seconds=3)
    assert submit(other, contractor, now=later).judgment.time_spent_ms == 3000


# --- leases ---------------------------------------------------------------------------------


def test_expired_leases_give_their_slot_back_to_the_item(manager, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=1)
    first, second = contractors[:2]
    assignment = next_item_for(contractor=first, campaign=campaign)
    assert next_item_for(contractor=second, campaign=campaign) is None
    assert services.leases_expire(now=timezone.now() + timedelta(hours=1)) == 1
    assert Assignment.objects.get(pk=assignment.pk).status == AssignmentStatus.EXPIRED
    assert next_item_for(contractor=second, campaign=campaign).item_id == assignment.item_id
    # The first contractor never gets it again, even though it came back to the queue.
    assert next_item_for(contractor=first, campaign=campaign) is None


def test_a_late_answer_is_accepted_while_the_item_still_needs_it(manager, contractor):
    campaign = make_campaign(owner=manager, items=1, overlap=2)
    assignment = next_item_for(contractor=contractor, campaign=campaign)
    services.leases_expire(now=timezone.now() + timedelta(hours=1))
    judgment = submit(assignment, contractor).judgment
    assert judgment.late is True
    item = WorkItem.objects.get(pk=assignment.item_id)
    assert (item.judgment_count, item.remaining) == (1, 1)


def test_a_late_answer_is_refused_once_others_gave_the_item_its_judgments(manager, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=1)
    late, prompt = contractors[:2]
    assignment = next_item_for(contractor=late, campaign=campaign)
    services.leases_expire(now=timezone.now() + timedelta(hours=1))
    submit(next_item_for(contractor=prompt, campaign=campaign), prompt)
    with pytest.raises(ServiceError) as refused:
        submit(assignment, late)
    assert refused.value.code == "lease_expired"
    assert "ran out at" in refused.value.message
    assert "received all the judgments it needs" in refused.value.message
    assert Judgment.objects.filter(contractor=late).count() == 0


def test_celery_beat_expires_leases_through_the_service(manager, contractor):
    from labeling import tasks

    campaign = make_campaign(owner=manager, items=1, overlap=1, lease_seconds=60)
    assignment = next_item_for(contractor=contractor, campaign=campaign)
    Assignment.objects.filter(pk=assignment.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.expire_leases() == 1
    assert campaign.items.get().remaining == 1


def test_an_unswept_lapsed_lease_still_holds_its_slot_and_is_accepted(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    later = assignment.expires_at + timedelta(minutes=5)
    assert submit(assignment, contractor, now=later).judgment.late is True


# --- skipping -------------------------------------------------------------------------------


def test_a_skipped_item_goes_back_to_the_queue_but_not_to_the_skipper(manager, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=1)
    skipper, other = contractors[:2]
    assignment = next_item_for(contractor=skipper, campaign=campaign)
    services.assignment_skip(
        assignment=assignment, contractor=skipper, reason="unclear", note="what is a payee?"
    )
    skipped = Assignment.objects.get(pk=assignment.pk)
    assert (skipped.status, skipped.skip_reason, skipped.skip_note) == (
        "skipped",
        "unclear",
        "what is a payee?",
    )
    assert next_item_for(contractor=skipper, campaign=campaign) is None
    assert next_item_for(contractor=other, campaign=campaign).item_id == assignment.item_id


def test_skipping_needs_a_known_reason_and_a_note_for_other(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    with pytest.raises(ServiceError, match="'bored' is not a skip reason"):
        services.assignment_skip(assignment=assignment, contractor=contractor, reason="bored")
    with pytest.raises(ServiceError, match="say why in a note"):
        services.assignment_skip(assignment=assignment, contractor=contractor, reason="other")


def test_a_skipped_item_takes_no_answer(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    services.assignment_skip(assignment=assignment, contractor=contractor, reason="broken")
    with pytest.raises(ServiceError, match="you skipped this item"):
        submit(assignment, contractor)


# --- demonstrations -------------------------------------------------------------------------


def test_a_demonstration_is_submitted_once_its_episode_is_finished(manager, contractor):
    from environments import services as environment_services

    campaign = make_campaign(kind="demonstrate", owner=manager, items=1, overlap=1)
    assignment = next_item_for(contractor=contractor, campaign=campaign)
    episode = services.assignment_start_episode(assignment=assignment)
    assert episode.user == contractor and episode.actor_kind == "contractor"
    assert services.assignment_start_episode(assignment=assignment).pk == episode.pk
    assignment.refresh_from_db()
    with pytest.raises(ServiceError, match="finish the task first"):
        submit(assignment, contractor, {})
    environment_services.episode_step(episode_id=episode.pk, action="send_msg_to_user('done')")
    judgment = submit(assignment, contractor, {}).judgment
    assert judgment.episode_id == episode.pk


def test_skipping_a_demonstration_abandons_its_episode(manager, contractor):
    campaign = make_campaign(kind="demonstrate", owner=manager, items=1)
    assignment = next_item_for(contractor=contractor, campaign=campaign)
    episode = services.assignment_start_episode(assignment=assignment)
    assignment.refresh_from_db()
    services.assignment_skip(assignment=assignment, contractor=contractor, reason="broken")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.ABANDONED


# --- gold, pauses -------------------------------------------------------------------------------


@pytest.fixture
def gold_always_due(monkeypatch):
    """Every draw that can be gold is gold, so the tests need not count on the hash."""
    monkeypatch.setattr("labeling.queue._gold_due", lambda *args: True)


def judge_all(campaign, contractor, answers) -> None:
    while True:
        try:
            assignment = next_item_for(contractor=contractor, campaign=campaign)
        except NotAllowed:
            return
        if assignment is None:
            return
        submit(assignment, contractor, answers)


def test_gold_judgments_are_scored_and_a_contractor_below_threshold_is_paused(
    manager, contractor, gold_always_due
):
    campaign = make_campaign(
        owner=manager,
        items=3,
        overlap=1,
        gold_rate=0.5,
        gold_accuracy_threshold=0.8,
        gold_min_judged=2,
    )
    for _ in range(3):
        make_gold_item(campaign, answer={"outcome": 5, "checks": {"goal_met": True}})
    judge_all(campaign, contractor, BAD)
    standing = ContractorStanding.objects.get(contractor=contractor, campaign=campaign)
    assert standing.status == StandingStatus.PAUSED
    assert standing.gold_judged == 2 and standing.gold_accuracy == 0.0
    assert "accuracy on check items is 0% over 2 items, below this campaign's 80%" in (
        standing.paused_reason
    )
    with pytest.raises(NotAllowed, match="Paused automatically"):
        next_item_for(contractor=contractor, campaign=campaign)
    assert Judgment.objects.filter(item__is_gold=True).first().gold_score == 0.0
    # Only the gold items were judged: a paused contractor gets no regular item.
    assert not Judgment.objects.filter(item__is_gold=False).exists()


def test_accurate_contractors_are_not_paused(manager, contractor, gold_always_due):
    campaign = make_campaign(
        owner=manager, items=2, gold_rate=0.5, gold_accuracy_threshold=0.8, gold_min_judged=1
    )
    make_gold_item(campaign, answer={"outcome": 4, "checks": {"goal_met": True}})
    judge_all(campaign, contractor, GOOD)
    standing = ContractorStanding.objects.get(contractor=contractor, campaign=campaign)
    assert (standing.status, standing.gold_accuracy) == ("active", 1.0)
    assert Judgment.objects.filter(contractor=contractor).count() == 3


def test_a_manager_resumes_a_paused_contractor_with_a_fresh_record(
    manager, contractor, gold_always_due
):
    campaign = make_campaign(
        owner=manager, items=2, gold_rate=0.5, gold_accuracy_threshold=0.9, gold_min_judged=1
    )
    make_gold_item(campaign, answer={"outcome": 5})
    judge_all(campaign, contractor, BAD)
    standing = ContractorStanding.objects.get(contractor=contractor, campaign=campaign)
    assert standing.status == StandingStatus.PAUSED
    with pytest.raises(NotAllowed):
        services.standing_resume(standing=standing, resumed_by=UserFactory(role=Role.MANAGER))
    standing = services.standing_resume(standing=standing, resumed_by=manager)
    assert (standing.status, standing.gold_judged, standing.paused_reason) == ("active", 0, "")
    assert next_item_for(contractor=contractor, campaign=campaign) is not None


# --- undo -------------------------------------------------------------------------------------


def undo(assignment, contractor, **extra):
    return services.judgment_undo(assignment=assignment, contractor=contractor, **extra)


def test_undo_withdraws_the_last_judgment_and_gives_the_next_item_back(manager, contractor):
    campaign = make_campaign(owner=manager, items=2, overlap=1)
    first = next_item_for(contractor=contractor, campaign=campaign)
    submit(first, contractor, GOOD)
    judged = WorkItem.objects.get(pk=first.item_id)
    assert judged.status == "complete"
    following = next_item_for(contractor=contractor, campaign=campaign)

    result = undo(first, contractor)

    assert result.answers == GOOD
    assert result.assignment.status == AssignmentStatus.ACTIVE
    assert not Judgment.objects.exists()
    judged.refresh_from_db()
    assert (judged.status, judged.judgment_count, judged.aggregate, judged.remaining) == (
        "open",
        0,
        None,
        0,
    )
    # The item shown next is back in the queue, untouched, and may come to them again.
    assert not Assignment.objects.filter(pk=following.pk).exists()
    assert WorkItem.objects.get(pk=following.item_id).remaining == 1
    # The undone item is theirs to answer again, and a new answer counts once.
    assert next_item_for(contractor=contractor, campaign=campaign).pk == first.pk
    submit(first, contractor, BAD, key="second-thoughts")
    assert Judgment.objects.get().answers["outcome"] == 1
    assert WorkItem.objects.get(pk=first.item_id).judgment_count == 1


def test_undoing_twice_changes_nothing_more(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    submit(assignment, contractor)
    assert undo(assignment, contractor).answers == GOOD
    again = undo(assignment, contractor)
    assert again.answers is None and again.assignment.status == AssignmentStatus.ACTIVE
    assert WorkItem.objects.get(pk=assignment.item_id).judgment_count == 0


def test_undo_is_refused_once_the_lease_is_over(grade_campaign, contractor):
    assignment = next_item_for(contractor=contractor, campaign=grade_campaign)
    submit(assignment, contractor)
    later = assignment.expires_at + timedelta(seconds=1)
    with pytest.raises(ServiceError, match=r"ran out at .* so its answer stands") as refused:
        undo(assignment, contractor, now=later)
    assert refused.value.code == "conflict"
    assert Judgment.objects.count() == 1


def test_only_the_last_submission_can_be_undone(grade_campaign, contractor):
    first = next_item_for(contractor=contractor, campaign=grade_campaign)
    submit(first, contractor)
    second = next_item_for(contractor=contractor, campaign=grade_campaign)
    submit(second, contractor)
    with pytest.raises(ServiceError, match="only your last submission"):
        undo(first, contractor)
    assert undo(second, contractor).answers == GOOD


def test_someone_elses_submission_cannot_be_undone(grade_campaign, contractors):
    owner, other = contractors[:2]
    assignment = next_item_for(contractor=owner, campaign=grade_campaign)
    submit(assignment, owner)
    with pytest.raises(NotAllowed):
        undo(assignment, other)
    assert Judgment.objects.count() == 1


def test_undo_takes_an_item_out_of_review_it_was_sent_to(manager, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=2, review_threshold=0.8)
    first, second = contractors[:2]
    submit(next_item_for(contractor=first, campaign=campaign), first, GOOD)
    last = next_item_for(contractor=second, campaign=campaign)
    submit(last, second, BAD)
    assert campaign.items.get().review_status == ReviewStatus.PENDING
    undo(last, second)
    item = campaign.items.get()
    assert (item.status, item.review_status, item.consensus) == ("open", ReviewStatus.NONE, None)
    assert list(selectors.review_queue_for(user=manager)) == []


def test_undo_is_refused_once_a_reviewer_gave_the_final_label(manager, reviewer, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=2, review_threshold=0.9)
    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    submit(next_item_for(contractor=contractors[0], campaign=campaign), contractors[0], GOOD)
    last = next_item_for(contractor=contractors[1], campaign=campaign)
    submit(last, contractors[1], BAD)
    services.item_adjudicate(item=campaign.items.get(), reviewer=reviewer, answers=GOOD)
    with pytest.raises(ServiceError, match="already given this item its final label"):
        undo(last, contractors[1])


def test_undoing_a_gold_judgment_takes_back_its_score_and_the_pause_it_caused(
    manager, contractor, gold_always_due
):
    campaign = make_campaign(
        owner=manager, items=2, gold_rate=0.5, gold_accuracy_threshold=0.9, gold_min_judged=1
    )
    make_gold_item(campaign, answer={"outcome": 5})
    gold = next_item_for(contractor=contractor, campaign=campaign)
    submit(gold, contractor, BAD)
    standing = ContractorStanding.objects.get(contractor=contractor, campaign=campaign)
    assert standing.status == StandingStatus.PAUSED
    undo(gold, contractor)
    standing.refresh_from_db()
    assert (standing.status, standing.paused_reason, standing.gold_judged) == ("active", "", 0)
    assert standing.gold_score_sum == 0
    submit(gold, contractor, {**BAD, "outcome": 5}, key="corrected")
    standing.refresh_from_db()
    assert (standing.status, standing.gold_accuracy) == ("active", 1.0)


def test_undoing_the_qualifying_answer_makes_the_contractor_qualify_again(manager, contractor):
    campaign = make_campaign(owner=manager, items=2, status="draft", qualification_size=1)
    make_gold_item(campaign, answer={"outcome": 4}, qualification=True)
    campaign = services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    test = next_item_for(contractor=contractor, campaign=campaign)
    submit(test, contractor, GOOD)
    standing = ContractorStanding.objects.get(contractor=contractor, campaign=campaign)
    assert standing.status == StandingStatus.ACTIVE and standing.qualified_at is not None
    undo(test, contractor)
    standing.refresh_from_db()
    assert standing.status == StandingStatus.QUALIFYING and standing.qualified_at is None
    assert (standing.qualification_judged, standing.gold_judged) == (0, 0)


# --- completion, aggregation, review ------------------------------------------------------------


def test_a_fully_judged_item_is_aggregated_and_disagreement_sends_it_to_review(
    manager, contractors
):
    campaign = make_campaign(owner=manager, items=1, overlap=2, review_threshold=0.8)
    first, second = contractors[:2]
    submit(next_item_for(contractor=first, campaign=campaign), first, GOOD)
    item = campaign.items.get()
    assert item.status == "open" and item.aggregate is None
    submit(next_item_for(contractor=second, campaign=campaign), second, BAD)
    item.refresh_from_db()
    assert item.status == "complete" and item.completed_at is not None
    assert item.aggregate["answers"]["outcome"] == 2.5
    assert item.consensus < 0.8
    assert item.review_status == ReviewStatus.PENDING
    assert list(selectors.review_queue_for(user=manager)) == [item]


def test_agreeing_judges_keep_an_item_out_of_review(manager, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=2)
    for person in contractors[:2]:
        submit(next_item_for(contractor=person, campaign=campaign), person, GOOD)
    item = campaign.items.get()
    assert item.consensus == 1.0 and item.review_status == ReviewStatus.NONE


def test_the_adjudicated_label_wins_over_the_aggregate(manager, reviewer, contractors):
    campaign = make_campaign(owner=manager, items=1, overlap=2, review_threshold=0.9)
    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    for person, answers in zip(contractors[:2], (GOOD, BAD), strict=False):
        submit(next_item_for(contractor=person, campaign=campaign), person, answers)
    item = campaign.items.get()
    label = selectors.item_final_label(item=item)
    assert (label["source"], label["status"]) == ("aggregate", "in_review")
    services.item_adjudicate(item=item, reviewer=reviewer, answers=GOOD, note="goal was met")
    item = WorkItem.objects.get(pk=item.pk)
    assert item.review_status == ReviewStatus.RESOLVED
    label = selectors.item_final_label(item=item)
    assert label["answers"] == GOOD
    assert (label["source"], label["status"], label["confidence"]) == (
        "adjudication",
        "adjudicated",
        1.0,
    )


def test_reviewers_adjudicate_only_items_in_review_of_their_campaigns(
    manager, reviewer, contractor
):
    campaign = make_campaign(owner=manager, items=1, overlap=1, reviewers=[])
    submit(next_item_for(contractor=contractor, campaign=campaign), contractor)
    item = campaign.items.get()
    with pytest.raises(NotAllowed, match="you do not review campaign"):
        services.item_adjudicate(item=item, reviewer=reviewer, answers=GOOD)
    services.campaign_update(campaign=campaign, updated_by=manager, reviewers=[reviewer])
    with pytest.raises(NotAllowed, match="not in the review queue"):
        services.item_adjudicate(item=item, reviewer=reviewer, answers=GOOD)
    # The campaign's manager may correct any judged item.
    services.item_adjudicate(item=item, reviewer=manager, answers=BAD)


# --- campaigns and items --------------------------------------------------------------------


def test_a_new_campaign_is_reviewed_by_every_active_reviewer_unless_told_otherwise(manager):
    reviewers = UserFactory.create_batch(2, role=Role.REVIEWER)
    UserFactory(role=Role.REVIEWER, is_active=False)
    UserFactory(role=Role.CONTRACTOR)
    default = make_campaign(owner=manager, items=0, status="draft")
    assert set(default.reviewers.all()) == set(reviewers)
    chosen = make_campaign(owner=manager, items=0, status="draft", reviewers=reviewers[:1])
    assert list(chosen.reviewers.all()) == reviewers[:1]
    nobody = make_campaign(owner=manager, items=0, status="draft", reviewers=[])
    assert not nobody.reviewers.exists()


def test_only_managers_and_admins_create_campaigns(contractor, reviewer):
    for person in (contractor, reviewer):
        with pytest.raises(NotAllowed):
            services.campaign_create(created_by=person, name="x", kind="grade", schema=[])


def test_settings_out_of_range_are_refused_by_name(manager):
    with pytest.raises(ServiceError, match="overlap must be between 1 and 50, not 0"):
        make_campaign(owner=manager, overlap=0)
    with pytest.raises(ServiceError, match="gold items and qualification apply to grade"):
        make_campaign(kind="demonstrate", owner=manager, gold_rate=0.1)


def test_a_campaign_without_items_cannot_be_activated(manager):
    campaign = make_campaign(owner=manager, items=0, status="draft")
    with pytest.raises(ServiceError, match="has no items yet"):
        services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)


def test_the_schema_is_fixed_once_judgments_exist(grade_campaign, manager, contractor):
    submit(next_item_for(contractor=contractor, campaign=grade_campaign), contractor)
    with pytest.raises(ServiceError, match=r"cannot change once judgments exist \(1 answer it\)"):
        services.campaign_update(
            campaign=grade_campaign,
            updated_by=manager,
            schema=[{"name": "ok", "type": "single_choice", "options": ["yes", "no"]}],
        )


def test_raising_the_overlap_reopens_items_and_lowering_it_completes_them(manager, contractor):
    campaign = make_campaign(owner=manager, items=1, overlap=1)
    submit(next_item_for(contractor=contractor, campaign=campaign), contractor)
    assert campaign.items.get().status == "complete"
    campaign = services.campaign_update(campaign=campaign, updated_by=manager, overlap=3)
    item = campaign.items.get()
    assert (item.status, item.remaining) == ("open", 2)
    services.campaign_update(campaign=campaign, updated_by=manager, overlap=1)
    item.refresh_from_db()
    assert (item.status, item.remaining) == ("complete", 0)


def test_another_manager_cannot_change_a_campaign(grade_campaign):
    stranger = UserFactory(role=Role.MANAGER)
    with pytest.raises(NotAllowed, match="you do not manage campaign"):
        services.campaign_update(campaign=grade_campaign, updated_by=stranger, priority=3)


def test_demonstrate_items_are_generated_from_families_and_seeds(manager):
    campaign = make_campaign(
        kind="demonstrate",
        owner=manager,
        items=0,
        status="draft",
        sources={"environment": "bank-v1", "families": ["pay_bill"], "seeds": [3, 1, 2]},
    )
    assert services.items_generate(campaign=campaign, requested_by=manager) == 3
    assert services.items_generate(campaign=campaign, requested_by=manager) == 0
    assert sorted(campaign.items.values_list("task__seed", flat=True)) == [1, 2, 3]


def test_grade_items_come_from_finished_episodes_and_new_ones_are_added_later(manager):
    from environments import services as environment_services

    task = make_labeling_task(family="statement_balance", seed=5)
    make_finished_episode(task=task, user=manager)
    environment_services.episode_create(task=task, user=manager, actor_kind="agent")  # running
    campaign = make_campaign(
        owner=manager,
        items=0,
        status="draft",
        sources={"environment": "bank-v1", "families": ["statement_balance"]},
    )
    assert services.items_generate(campaign=campaign, requested_by=manager) == 1
    make_finished_episode(task=task, user=manager)
    assert services.items_generate(campaign=campaign, requested_by=manager) == 1
    assert campaign.items.count() == 2


def test_a_campaign_with_sources_generates_its_items_without_being_asked(manager):
    task = make_labeling_task(family="statement_balance", seed=5)
    make_finished_episode(task=task, user=manager)  # finished before the campaign existed
    sources = {"environment": "bank-v1", "families": ["statement_balance"]}
    campaign = make_campaign(owner=manager, items=0, status="draft", sources=sources)
    job = Job.objects.get(kind=services.GENERATE_JOB)
    assert job.params == {"campaign": campaign.pk}
    platform_services.job_execute(job_id=job.pk, handler=services.generate_job)
    assert campaign.items.count() == 1
    # New sources generate again; unchanged ones do not.
    services.campaign_update(campaign=campaign, updated_by=manager, sources=sources)
    assert Job.objects.filter(kind=services.GENERATE_JOB).count() == 1
    services.campaign_update(
        campaign=campaign, updated_by=manager, sources={"environment": "bank-v1"}
    )
    assert Job.objects.filter(kind=services.GENERATE_JOB).count() == 2


def test_compare_items_pair_episodes_of_the_same_task_by_different_actors(manager):
    task = make_labeling_task(family="cancel_payment", seed=9)
    solver = make_finished_episode(task=task, user=manager, policy="solver")
    make_finished_episode(task=task, user=manager, policy="solver")  # same actor: no pair
    random = make_finished_episode(task=task, user=manager, policy="random")
    campaign = make_campaign(
        kind="compare",
        owner=manager,
        items=0,
        status="draft",
        sources={"environment": "bank-v1", "families": ["cancel_payment"], "pairs_per_task": 5},
    )
    assert services.items_generate(campaign=campaign, requested_by=manager) == 2
    for item in campaign.items.all():
        assert item.task_id == task.pk
        assert random.pk in (item.episode_a_id, item.episode_b_id)
    assert any(solver.pk in (i.episode_a_id, i.episode_b_id) for i in campaign.items.all())


def test_explicit_items_are_checked(manager):
    campaign = make_campaign(kind="compare", owner=manager, items=0, status="draft")
    one = make_finished_episode(task=make_labeling_task(seed=1))
    other = make_finished_episode(task=make_labeling_task(seed=2))
    with pytest.raises(ServiceError, match=r"item 1: episodes .* are of different tasks"):
        services.items_add(
            campaign=campaign,
            added_by=manager,
            entries=[{"episode_a": one.pk, "episode_b": other.pk}],
        )


def test_a_gold_item_needs_a_valid_answer(grade_campaign, manager):
    episode = make_finished_episode()
    with pytest.raises(LabelSchemaError, match="question 'outcome': 8 is outside the scale"):
        services.items_add(
            campaign=grade_campaign,
            added_by=manager,
            entries=[{"episode": episode.pk, "is_gold": True, "gold_answer": {"outcome": 8}}],
        )
    with pytest.raises(ServiceError, match="a gold item needs its gold_answer"):
        services.items_add(
            campaign=grade_campaign,
            added_by=manager,
            entries=[{"episode": episode.pk, "is_gold": True}],
        )


def test_unknown_source_names_are_refused_by_name(manager):
    with pytest.raises(
        ServiceError, match="'rollouts' is not an episode source; did you mean"
    ) as e:
        make_campaign(
            owner=manager, items=0, status="draft", sources={"episode_sources": ["rollouts"]}
        )
    assert e.value.field == "sources.episode_sources"
    with pytest.raises(ServiceError, match="'robot' is not an actor kind"):
        make_campaign(owner=manager, items=0, status="draft", sources={"actor_kinds": ["robot"]})
