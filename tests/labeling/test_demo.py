"""`manage.py seed_demo` adds a labeling campaign of each kind over real bank trajectories,
once."""

import pytest

from environments.models import Episode
from labeling.demo import seed_demo_labeling
from labeling.models import Campaign
from rlplatform.demo import seed_demo_people

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_the_demo_has_a_campaign_of_each_kind_over_real_trajectories(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    seed_demo_people()
    counts = seed_demo_labeling()
    assert set(Campaign.objects.values_list("kind", flat=True)) == {
        "demonstrate",
        "grade",
        "compare",
    }
    assert all(campaign.status == "active" for campaign in Campaign.objects.all())
    assert all(count > 0 for count in counts.values())
    demo = Episode.objects.filter(source="demo")
    solved = demo.filter(metadata__policy="scripted-solver")
    assert solved.exists() and all(episode.success for episode in solved)
    assert not any(episode.success for episode in demo.filter(metadata__policy="random"))
    assert all(episode.is_finished and episode.step_count for episode in demo)
    grade = Campaign.objects.get(kind="grade")
    assert grade.items.filter(is_gold=True).count() == 2
    assert grade.reviewers.filter(username="reviewer").exists()

    again = seed_demo_labeling()
    assert again == counts
    assert Episode.objects.filter(source="demo").count() == demo.count()
