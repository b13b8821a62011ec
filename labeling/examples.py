"""Example schemas and sources per campaign kind: the new-campaign form starts from them and
the demo campaigns use them."""

from labeling.models import CampaignKind

EXAMPLE_SCHEMAS = {
    CampaignKind.GRADE: [
        {"name": "steps", "type": "step_rating", "prompt": "Was each step a good move?"},
        {
            "name": "outcome",
            "type": "outcome_rating",
            "prompt": "How well did the agent do the task?",
            "min": 1,
            "max": 5,
            "min_label": "failed",
            "max_label": "perfect",
        },
        {
            "name": "checks",
            "type": "rubric",
            "prompt": "Tick what holds",
            "checks": [
                {"name": "goal_met", "label": "Did what the task asked"},
                {"name": "no_collateral", "label": "Changed nothing else"},
            ],
        },
        {"name": "comment", "type": "text", "required": False, "max_length": 1000},
    ],
    CampaignKind.COMPARE: [
        {"name": "preference", "type": "preference", "prompt": "Which run did the task better?"},
        {
            "name": "reason",
            "type": "single_choice",
            "prompt": "Main reason",
            "options": ["correctness", "efficiency", "safety", "other"],
        },
    ],
    CampaignKind.DEMONSTRATE: [
        {
            "name": "difficulty",
            "type": "outcome_rating",
            "prompt": "How hard was the task?",
            "min": 1,
            "max": 5,
            "min_label": "trivial",
            "max_label": "very hard",
            "required": False,
        }
    ],
}
EXAMPLE_SOURCES = {
    CampaignKind.GRADE: {
        "environment": "bank-v1",
        "actor_kinds": ["agent"],
        "rollouts": {"mode": "failures", "sample_rate": 0.25},
    },
    CampaignKind.COMPARE: {"environment": "bank-v1", "pairs_per_task": 1},
    CampaignKind.DEMONSTRATE: {
        "environment": "bank-v1",
        "families": ["pay_bill", "transfer_funds"],
        "seeds": {"start": 0, "count": 10},
    },
}
