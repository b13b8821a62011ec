"""The question types of a label schema and their constants, with no Django in them, so that
`labeling/quality.py` stays a set of pure functions."""

STEP_RATING = "step_rating"
OUTCOME_RATING = "outcome_rating"
PREFERENCE = "preference"
RUBRIC = "rubric"
SINGLE_CHOICE = "single_choice"
MULTIPLE_CHOICE = "multiple_choice"
TEXT = "text"
FIRST_ERROR = "first_error"
TYPES = (
    STEP_RATING,
    OUTCOME_RATING,
    PREFERENCE,
    RUBRIC,
    SINGLE_CHOICE,
    MULTIPLE_CHOICE,
    TEXT,
    FIRST_ERROR,
)
# Each type in words, for the manager's pages.
TYPE_TITLES = {
    STEP_RATING: "Rate each step (-1, 0, +1)",
    OUTCOME_RATING: "Rate the outcome on a scale",
    PREFERENCE: "Which is better: A, B or tie",
    RUBRIC: "Yes / no checks",
    SINGLE_CHOICE: "Choose one option",
    MULTIPLE_CHOICE: "Choose several options",
    TEXT: "Free text",
    FIRST_ERROR: "The first step that went wrong, and why",
}

# Krippendorff's level of measurement for each question type (free text has none).
LEVELS = {
    STEP_RATING: "ordinal",
    OUTCOME_RATING: "ordinal",
    PREFERENCE: "nominal",
    RUBRIC: "nominal",
    SINGLE_CHOICE: "nominal",
    MULTIPLE_CHOICE: "nominal",
    # Two parts, each with its own alpha: the step (interval) and the category (nominal).
    FIRST_ERROR: "interval",
}
STEP_VALUES = (-1, 0, 1)
PREFERENCE_CHOICES = ("A", "B", "tie")
STRENGTHS = {1: "slightly", 2: "clearly", 3: "much"}

# What usually goes wrong with a web agent; a campaign edits this list in its first_error
# question (`categories`). Each category's key is its position, 1 to 9.
DEFAULT_ERROR_CATEGORIES = (
    {"value": "wrong_element", "label": "Wrong element"},
    {"value": "wrong_value", "label": "Wrong value typed"},
    {"value": "missed_instruction", "label": "Missed part of the instruction"},
    {"value": "not_on_page", "label": "Acted on information not on the page"},
    {"value": "answered_too_early", "label": "Answered too early"},
    {"value": "needless_action", "label": "Needless or repeated action"},
    {"value": "ignored_error", "label": "Ignored an error message"},
    {"value": "collateral_change", "label": "Changed something it should not have"},
)
