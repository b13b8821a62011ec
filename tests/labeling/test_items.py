"""The item browser of a campaign (labeling.views.item_browser and its bulk actions): filters,
search and pages over labeling.selectors.item_browse, each item's judgments side by side, the
bulk services (re-queue, send to review, remove), each idempotent, and the export it starts."""

import pytest

from exports.models import Export
from labeling import services
from labeling.models import ReviewStatus, WorkItem, WorkItemStatus
from labeling.queue import next_item_for
from rlplatform.models import Role
from rlplatform.services import NotAllowed, ServiceError
from tests.factories import (
    GOOD_ANSWERS,
    UserFactory,
    make_campaign,
    make_finished_episode,
    make_gold_item,
    make_labeling_task,
    play_episode,
)

pytestmark = pytest.mark.django_db

DISSENT = {"outcome": 1, "checks": {"goal_met": False, "no_collateral": True}}


def judge(contractor, campaign, answers) -> WorkItem:
    assignment = next_item_for(contractor=contractor, campaign=campaign)
    services.judgment_submit(
        assignment=assignment,
        contractor=contractor,
        answers=answers,
        idempotency_key=f"{contractor.pk}-{assignment.pk}",
    )
    return WorkItem.objects.get(pk=assignment.item_id)


@pytest.fixture
def world(manager):
    """Manager's grade campaign (overlap 2, threshold 0.9) of five items: #1 decided by two
    agreeing judges, #2 split (in review), #3 split then adjudicated, #4 judged once, #5 never
    judged, plus a gold item; #5 is of the pay_bill family, the rest card_controls."""
    campaign = make_campaign(owner=manager, items=4, overlap=2, review_threshold=0.9)
    paid = make_finished_episode(task=make_labeling_task(family="pay_bill", seed=3), user=manager)
    services.items_add(campaign=campaign, added_by=manager, entries=[{"episode": paid.pk}])
    gold = make_gold_item(campaign, answer={"outcome": 4})
    ann, bob = (
        UserFactory(role=Role.CONTRACTOR, username="ann"),
        UserFactory(role=Role.CONTRACTOR, username="bob"),
    )
    decided = judge(ann, campaign, GOOD_ANSWERS["grade"])
    judge(bob, campaign, GOOD_ANSWERS["grade"])
    split = judge(ann, campaign, GOOD_ANSWERS["grade"])
    judge(bob, campaign, DISSENT)
    adjudicated = judge(ann, campaign, GOOD_ANSWERS["grade"])
    judge(bob, campaign, DISSENT)
    services.item_adjudicate(item=adjudicated, reviewer=manager, answers=GOOD_ANSWERS["grade"])
    once = judge(ann, campaign, DISSENT)
    fresh = campaign.items.get(task__family="pay_bill")
    items = {
        "decided": decided,
        "split": split,
        "adjudicated": adjudicated,
        "once": once,
        "fresh": fresh,
        "gold": gold,
    }
    return {
        "campaign": campaign,
        "ann": ann,
        "bob": bob,
        **{name: WorkItem.objects.get(pk=item.pk) for name, item in items.items()},
    }


def shown(client, campaign, query: str = "") -> set[int]:
    response = client.get(f"/label/manage/{campaign.pk}/items/?{query}")
    assert response.status_code == 200
    return {row["item"].pk for row in response.context["rows"]}


def ids(world, *names) -> set[int]:
    return {world[name].pk for name in names}


# --- filters and search ---------------------------------------------------------------------


def test_the_browser_filters_by_status_in_words(client, manager, world):
    campaign = world["campaign"]
    client.force_login(manager)
    assert shown(client, campaign, "state=complete") == ids(world, "decided")
    assert shown(client, campaign, "state=in_review") == ids(world, "split")
    assert shown(client, campaign, "state=adjudicated") == ids(world, "adjudicated")
    assert shown(client, campaign, "state=in_progress") == ids(world, "once")
    assert shown(client, campaign, "state=queued") == ids(world, "fresh", "gold")
    both = shown(client, campaign, "state=in_review&state=adjudicated")
    assert both == ids(world, "split", "adjudicated")
    page = client.get(f"/label/manage/{campaign.pk}/items/").content.decode()
    for words in ("Queued", "In progress", "Complete", "In review", "Adjudicated"):
        assert words in page
    assert "Decided by the judges" in page and "Waiting for review" in page
    assert "in_review" not in page.replace('value="in_review"', "").replace("state-in_review", "")


def test_a_leased_item_is_in_progress(client, manager, world):
    # Ann judged every other item, so she is handed the fresh one.
    held = next_item_for(contractor=world["ann"], campaign=world["campaign"])
    assert held.item_id == world["fresh"].pk
    client.force_login(manager)
    assert shown(client, world["campaign"], "state=in_progress") == ids(world, "once", "fresh")
    assert shown(client, world["campaign"], "state=queued") == ids(world, "gold")


def test_the_browser_filters_by_the_final_labels_confidence(client, manager, world):
    campaign = world["campaign"]
    client.force_login(manager)
    # Adjudicated: 1.0; two agreeing judges: 1.0; a split of two: 0.5 or so; one judge: none.
    assert shown(client, campaign, "min_confidence=0.9") == ids(world, "decided", "adjudicated")
    assert shown(client, campaign, "max_confidence=0.8") == ids(world, "split")
    page = client.get(f"/label/manage/{campaign.pk}/items/?min_confidence=7")
    assert "not applied" in page.content.decode()
    assert len(page.context["rows"]) == 6


def test_the_browser_filters_by_gold_contractor_and_family(client, manager, world):
    campaign = world["campaign"]
    client.force_login(manager)
    assert shown(client, campaign, "gold=gold") == ids(world, "gold")
    assert world["gold"].pk not in shown(client, campaign, "gold=regular")
    assert shown(client, campaign, f"contractor={world['bob'].pk}") == ids(
        world, "decided", "split", "adjudicated"
    )
    assert shown(client, campaign, "family=pay_bill") == ids(world, "fresh")


def test_search_finds_an_item_by_id_episode_or_goal_words(client, manager, world):
    campaign = world["campaign"]
    client.force_login(manager)
    item = world["split"]
    assert shown(client, campaign, f"q={item.pk}") >= {item.pk}
    assert shown(client, campaign, f"q=%23{item.pk}") >= {item.pk}
    assert shown(client, campaign, f"q=episode+{item.episode_a_id}") == {item.pk}
    words = world["fresh"].task.goal.split()[:3]
    assert world["fresh"].pk in shown(client, campaign, "q=" + "+".join(words))
    assert shown(client, campaign, "q=no+goal+says+this") == set()
    # Digits beyond any id and other scripts' digits find nothing; NUL is refused by name.
    for query in ("q=99999999999999999999999", "q=%D9%A1%D9%A2"):
        assert client.get(f"/label/manage/{campaign.pk}/items/?{query}").status_code == 200
    for query in ("q=%00", "q=%00%00abc"):
        refused = client.get(f"/label/manage/{campaign.pk}/items/?{query}")
        assert refused.status_code == 400 and "q" in refused.content.decode()


def test_the_browser_pages_fifty_items_at_a_time(client, manager):
    campaign = make_campaign(owner=manager, items=52, overlap=1)
    client.force_login(manager)
    first = client.get(f"/label/manage/{campaign.pk}/items/?state=queued")
    assert len(first.context["rows"]) == 50 and "Page 1 of 2" in first.content.decode()
    assert 'href="?state=queued&page=2"' in first.content.decode()
    second = client.get(f"/label/manage/{campaign.pk}/items/?state=queued&page=2")
    assert len(second.context["rows"]) == 2


def test_another_managers_campaign_is_not_found(client, world):
    campaign, item = world["campaign"], world["split"]
    client.force_login(UserFactory(role=Role.MANAGER))
    base = f"/label/manage/{campaign.pk}/items/"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}{item.pk}/").status_code == 404
    body = {"action": "remove", "items": [world["fresh"].pk], "confirm": "yes"}
    assert client.post(f"{base}bulk/", body).status_code == 404
    assert client.post(f"{base}export/", {"kind": "unpaired", "format": "jsonl"}).status_code == 404
    assert WorkItem.objects.filter(pk=world["fresh"].pk).exists()
    assert not Export.objects.exists()


def test_an_item_of_another_campaign_is_not_found_under_this_one(client, manager, world):
    other = make_campaign(owner=manager, items=1)
    client.force_login(manager)
    foreign = other.items.get()
    assert (
        client.get(f"/label/manage/{world['campaign'].pk}/items/{foreign.pk}/").status_code == 404
    )


# --- the item's judgments side by side ------------------------------------------------------


def test_an_item_shows_each_contractors_answers_and_its_final_label(client, manager, world):
    client.force_login(manager)
    item = world["adjudicated"]
    page = client.get(f"/label/manage/{world['campaign'].pk}/items/{item.pk}/").content.decode()
    assert "<th>ann" in page and "<th>bob" in page
    assert 'Final label: <span id="final-label-status">Adjudicated</span>' in page
    assert "<dt>Outcome</dt><dd>4</dd><dt>Checks</dt><dd>goal met: yes; no collateral: yes" in page
    split = world["split"]
    page = client.get(f"/label/manage/{world['campaign'].pk}/items/{split.pk}/").content.decode()
    assert '<span id="final-label-status">Waiting for review</span>' in page
    fresh = world["fresh"]
    page = client.get(f"/label/manage/{world['campaign'].pk}/items/{fresh.pk}/").content.decode()
    assert "No label yet" in page and "Nobody has judged this item yet." in page


# --- bulk actions: the services -------------------------------------------------------------


def test_steps_show_no_majority_before_the_items_judgments_are_all_in(client, manager):
    steps_question = {"name": "steps", "type": "step_rating", "prompt": "Good move?"}
    campaign = make_campaign(
        owner=manager, items=0, overlap=2, schema=[steps_question], status="draft"
    )
    episode = play_episode(user=manager, env_id="bank-v1", family="card_controls", seed=1)
    services.items_add(campaign=campaign, added_by=manager, entries=[{"episode": episode.pk}])
    campaign = services.campaign_set_status(campaign=campaign, status="active", changed_by=manager)
    ratings = [1] * episode.step_count
    judge(UserFactory(role=Role.CONTRACTOR), campaign, {"steps": {"ratings": ratings}})
    client.force_login(manager)
    item = campaign.items.get()
    page = client.get(f"/label/manage/{campaign.pk}/items/{item.pk}/").content.decode()
    steps = page.split("Step ratings, step by step")[1]
    assert steps.count("data-step-row") == episode.step_count >= 3
    assert 'data-standing="tie"' not in steps


def test_requeue_opens_a_complete_item_for_one_more_judgment_once(manager, world):
    campaign = world["campaign"]
    chosen = [world[name].pk for name in ("decided", "split", "adjudicated", "gold", "once")]
    result = services.items_requeue(campaign=campaign, item_ids=chosen, requested_by=manager)
    assert result.changed == 2
    assert result.left == {
        "adjudicated: a reviewer gave the final label": 1,
        "gold items are served from their own pool": 1,
        "already waiting for judgments": 1,
    }
    for name in ("decided", "split"):
        item = WorkItem.objects.get(pk=world[name].pk)
        assert (item.status, item.remaining, item.review_status) == ("open", 1, "")
        assert item.aggregate is None
    again = services.items_requeue(campaign=campaign, item_ids=chosen, requested_by=manager)
    assert again.changed == 0
    assert WorkItem.objects.get(pk=world["decided"].pk).remaining == 1
    # The new judgment completes it again, aggregated over all three.
    carl = UserFactory(role=Role.CONTRACTOR)
    judged = {judge(carl, campaign, GOOD_ANSWERS["grade"]).pk for _ in range(2)}
    decided = WorkItem.objects.get(pk=world["decided"].pk)
    assert decided.pk in judged and decided.status == WorkItemStatus.COMPLETE
    assert decided.judgment_count == 3 and decided.aggregate is not None


def test_send_to_review_takes_fully_judged_items_once(manager, world):
    campaign = world["campaign"]
    chosen = [world[name].pk for name in ("decided", "split", "adjudicated", "once")]
    result = services.items_send_to_review(campaign=campaign, item_ids=chosen, requested_by=manager)
    assert result.changed == 1
    assert result.left == {
        "already in review": 1,
        "adjudicated: a reviewer gave the final label": 1,
        "not fully judged yet": 1,
    }
    assert WorkItem.objects.get(pk=world["decided"].pk).review_status == ReviewStatus.PENDING
    again = services.items_send_to_review(campaign=campaign, item_ids=chosen, requested_by=manager)
    assert again.changed == 0


def test_remove_deletes_unjudged_items_and_keeps_judged_and_held_ones(manager, world):
    campaign = world["campaign"]
    # Ann judged every other item, so she is handed the fresh one and holds it.
    assert next_item_for(contractor=world["ann"], campaign=campaign).item_id == world["fresh"].pk
    chosen = [world[name].pk for name in ("fresh", "gold", "once", "decided")]
    result = services.items_remove(campaign=campaign, item_ids=chosen, requested_by=manager)
    assert result.changed == 1
    assert result.left == {"has judgments, which are kept": 2, "a contractor is working on it": 1}
    assert not WorkItem.objects.filter(pk=world["gold"].pk).exists()
    assert WorkItem.objects.filter(pk__in=chosen).count() == 3
    assert world["once"].judgments.count() == 1
    again = services.items_remove(campaign=campaign, item_ids=chosen, requested_by=manager)
    assert again.changed == 0


def test_bulk_actions_touch_only_the_campaigns_items_and_only_for_its_managers(manager, world):
    other = make_campaign(owner=manager, items=1)
    foreign = other.items.get()
    result = services.items_remove(
        campaign=world["campaign"], item_ids=[foreign.pk], requested_by=manager
    )
    assert result.changed == 0 and WorkItem.objects.filter(pk=foreign.pk).exists()
    with pytest.raises(NotAllowed):
        services.items_remove(
            campaign=world["campaign"],
            item_ids=[world["fresh"].pk],
            requested_by=UserFactory(role=Role.MANAGER),
        )
    with pytest.raises(ServiceError) as error:
        services.items_requeue(campaign=world["campaign"], item_ids=[], requested_by=manager)
    assert error.value.field == "items"


# --- bulk actions and export: the page ------------------------------------------------------


def test_a_bulk_action_asks_for_confirmation_then_acts_on_the_filtered_items(
    client, manager, world
):
    campaign = world["campaign"]
    client.force_login(manager)
    url = f"/label/manage/{campaign.pk}/items/bulk/"
    body = {"action": "review", "scope": "filtered", "query": "state=complete&page=3"}
    confirm = client.post(url, body)
    page = confirm.content.decode()
    assert confirm.status_code == 200 and "Send to review 1 item?" in page
    assert WorkItem.objects.get(pk=world["decided"].pk).review_status == ""
    done = client.post(url, {**body, "confirm": "yes"}, follow=True)
    assert done.redirect_chain[-1][0] == f"/label/manage/{campaign.pk}/items/?state=complete"
    assert "1 item sent to review." in done.content.decode()
    assert WorkItem.objects.get(pk=world["decided"].pk).review_status == "pending"


def test_a_bulk_removal_of_ticked_items_says_what_it_kept(client, manager, world):
    campaign = world["campaign"]
    client.force_login(manager)
    url = f"/label/manage/{campaign.pk}/items/bulk/"
    ticked = [world["fresh"].pk, world["decided"].pk]
    confirm = client.post(url, {"action": "remove", "scope": "selected", "items": ticked})
    assert "Remove 2 items?" in confirm.content.decode()
    done = client.post(
        url,
        {"action": "remove", "scope": "selected", "items": ticked, "confirm": "yes"},
        follow=True,
    )
    message = "1 item removed. Not changed: 1 item (has judgments, which are kept)."
    assert message in done.content.decode()
    assert not WorkItem.objects.filter(pk=world["fresh"].pk).exists()
    assert (
        client.post(url, {"action": "remove", "scope": "selected"}, follow=True).status_code == 200
    )
    assert client.post(url, {"action": "explode", "items": ticked}).status_code == 302


def test_ticked_ids_that_are_not_ascii_numbers_are_ignored(client, manager, world):
    client.force_login(manager)
    url = f"/label/manage/{world['campaign'].pk}/items/bulk/"
    ticked = [world["fresh"].pk, "\u0661", "9" * 30, "-1", "2.0"]
    confirm = client.post(url, {"action": "remove", "scope": "selected", "items": ticked})
    assert confirm.status_code == 200 and "Remove 1 item?" in confirm.content.decode()


def test_the_export_takes_the_filters_exports_have_and_names_the_others(client, manager, world):
    campaign = world["campaign"]
    client.force_login(manager)
    ann = world["ann"].pk
    query = f"min_confidence=0.8&family=card_controls&contractor={ann}&state=complete"
    page = client.get(f"/label/manage/{campaign.pk}/items/?{query}").content.decode()
    assert "confidence at least 80%" in page and "family card_controls" in page
    assert "Not applied (exports have no such filter): status, contractor." in page
    # Its questions are an outcome rating and checks: only the outcome grades export reads them.
    assert 'value="unpaired"' in page
    assert 'value="stepwise"' not in page and 'value="preference"' not in page
    response = client.post(
        f"/label/manage/{campaign.pk}/items/export/",
        {"kind": "unpaired", "format": "jsonl", "include_unresolved": "1", "query": query},
    )
    assert response.status_code == 302 and response["Location"] == "/exports/"
    export = Export.objects.get()
    assert export.kind == "unpaired" and export.created_by == manager
    assert export.filters["campaigns"] == [campaign.pk]
    assert export.filters["min_confidence"] == 0.8
    assert export.filters["families"] == ["card_controls"]
    assert export.filters["include_unresolved"] is True
    assert "contractor" not in export.filters and "state" not in export.filters
    refused = client.post(
        f"/label/manage/{campaign.pk}/items/export/", {"kind": "preference", "format": "jsonl"}
    )
    assert refused.status_code == 302 and Export.objects.count() == 1


def test_the_dashboard_links_to_the_item_browser(client, manager, world):
    client.force_login(manager)
    page = client.get(f"/label/manage/{world['campaign'].pk}/").content.decode()
    assert f'href="/label/manage/{world["campaign"].pk}/items/"' in page


def test_junk_item_ids_select_nothing(client, manager, world):
    client.force_login(manager)
    url = f"/label/manage/{world['campaign'].pk}/items/bulk/"
    junk = ["99999999999999999999999", "\u0661", "abc", "", "-3"]
    response = client.post(url, {"action": "remove", "items": junk, "confirm": "yes"}, follow=True)
    assert "Select at least one item" in response.content.decode()
    assert WorkItem.objects.filter(campaign=world["campaign"]).count() == 6


def test_a_page_of_items_costs_the_same_queries_for_two_items_as_for_fifty(client, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = make_campaign(owner=manager, items=2, overlap=1)
    large = make_campaign(owner=manager, items=60, overlap=1)
    client.force_login(manager)
    counts = []
    for campaign in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/label/manage/{campaign.pk}/items/?q=sign").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
