"""The question types of a label schema and their constants, with no Django in them, so that
`labeling/quality.py` stays a set of pure functions."""

STEP_RATING = "step_rating"
OUTCOME_RATING = "outcome_rating"
PREFERENCE = "preference"
RUBRIC = "rubric"
SINGLE_CHOICE = "single_choice"
MULTIPLE_CHOICE = "multiple_choice"
TEXT = "text"
TYPES = (STEP_RATING, OUTCOME_RATING, PREFERENCE, RUBRIC, SINGLE_CHOICE, MULTIPLE_CHOICE, TEXT)
# Each type in words, for the manager's pages.
TYPE_TITLES = {
    STEP_RATING: "Rate each step (-1, 0, +1)",
    OUTCOME_RATING: "Rate the outcome on a scale",
    PREFERENCE: "Which is better: A, B or tie",
    RUBRIC: "Yes / no checks",
    SINGLE_CHOICE: "Choose one option",
    MULTIPLE_CHOICE: "Choose several options",
    TEXT: "Free text",
}

# Krippendorff's level of measurement for each question type (free text has none).
LEVELS = {
    STEP_RATING: "ordinal",
    OUTCOME_RATING: "ordinal",
    PREFERENCE: "nominal",
    RUBRIC: "nominal",
    SINGLE_CHOICE: "nominal",
    MULTIPLE_CHOICE: "nominal",
}
STEP_VALUES = (-1, 0, 1)
PREFERENCE_CHOICES = ("A", "B", "tie")
STRENGTHS = {1: "slightly", 2: "clearly", 3: "much"}
