"""A manager filters a campaign's items in a real browser (the results swap in place, the
address keeps the filters), opens one item's judgments, and runs bulk actions through their
confirmation."""

import pytest

from labeling import services
from labeling.models import WorkItem
from labeling.queue import next_item_for
from rlplatform.models import Role
from tests.conftest import browser_sign_in
from tests.factories import GOOD_ANSWERS, UserFactory, make_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign():
    """Five items: two judged alike by two contractors (complete), three nobody judged."""
    manager = UserFactory(role=Role.MANAGER, username="lead")
    campaign = make_campaign(owner=manager, items=5, overlap=2, name="Card grades")
    for name in ("ann", "bob"):
        contractor = UserFactory(role=Role.CONTRACTOR, username=name)
        for _ in range(2):
            assignment = next_item_for(contractor=contractor, campaign=campaign)
            services.judgment_submit(
                assignment=assignment,
                contractor=contractor,
                answers=GOOD_ANSWERS["grade"],
                idempotency_key=f"{name}-{assignment.pk}",
            )
    return campaign


def shown_items(page) -> list[int]:
    return [int(pk) for pk in page.eval_on_selector_all(
        ".items-table tbody tr[data-item]", "rows => rows.map(r => r.dataset.item)"
    )]  # fmt: skip


def test_a_manager_filters_items_and_acts_on_them_in_bulk(page, live_server, campaign):
    complete = set(campaign.items.filter(status="complete").values_list("pk", flat=True))
    queued = set(campaign.items.filter(judgment_count=0).values_list("pk", flat=True))
    browser_sign_in(page, live_server, "lead")
    page.goto(f"{live_server.url}/label/manage/{campaign.pk}/")
    page.click("#browse-items")
    page.wait_for_url(f"{live_server.url}/label/manage/{campaign.pk}/items/")
    assert len(shown_items(page)) == 5

    # Ticking a status filters in place: no page load, and the address keeps the filter.
    page.evaluate("window.__noReload = true")
    page.check('input[name="state"][value="complete"]')
    page.wait_for_function(
        "document.querySelectorAll('.items-table tbody tr[data-item]').length === 2"
    )
    assert set(shown_items(page)) == complete
    assert page.evaluate("window.__noReload") is True
    assert page.url.endswith("?state=complete")
    assert page.locator(".items-table .item-state").all_inner_texts() == ["Complete", "Complete"]

    # One item's judgments side by side, a column per contractor, and its final label.
    first = min(complete)
    page.click(f'.items-table a[href^="/label/manage/{campaign.pk}/items/{first}/"]')
    page.wait_for_selector("#final-label")
    assert page.inner_text("#final-label-status") == "Decided by the judges"
    assert page.locator(".judgments-table thead th").all_inner_texts()[1:3] == ["ANN", "BOB"]
    page.click("text=← Items of Card grades")
    page.wait_for_url(f"{live_server.url}/label/manage/{campaign.pk}/items/?state=complete")

    # Every matching item to review: the confirmation says what and how many, then it is done.
    page.check("#scope-filtered")
    page.click('button[data-action="review"]')
    page.wait_for_selector("#bulk-confirm")
    assert page.inner_text("#bulk-confirm h1") == "Send to review 2 items?"
    assert set(WorkItem.objects.filter(review_status="pending")) == set()
    page.click("#bulk-confirm-yes")
    page.wait_for_url(f"{live_server.url}/label/manage/{campaign.pk}/items/?state=complete")
    assert "2 items sent to review." in page.inner_text("main")
    assert (
        set(WorkItem.objects.filter(review_status="pending").values_list("pk", flat=True))
        == complete
    )

    # The queued ones: tick two, remove them; the third stays.
    page.uncheck('input[name="state"][value="complete"]')
    page.check('input[name="state"][value="queued"]')
    page.wait_for_function(
        "document.querySelectorAll('.items-table tbody tr[data-item]').length === 3"
    )
    ticked = sorted(queued)[:2]
    for pk in ticked:
        page.check(f'input[name="items"][value="{pk}"]')
    page.click('button[data-action="remove"]')
    page.wait_for_selector("#bulk-confirm")
    assert page.inner_text("#bulk-confirm h1") == "Remove 2 items?"
    page.click("#bulk-confirm-yes")
    page.wait_for_url(f"{live_server.url}/label/manage/{campaign.pk}/items/?state=queued")
    assert "2 items removed." in page.inner_text("main")
    assert shown_items(page) == sorted(queued - set(ticked))
    assert not WorkItem.objects.filter(pk__in=ticked).exists()
