"""Label schemas: an ordered list of typed questions, checked when a campaign is saved, and the
answers to them, checked when a judgment (or a gold answer, or an adjudication) is recorded.

Every problem names the question and says what is wrong with it, e.g.
`question 'outcome': 7 is outside the scale 1 to 5`.

Question types and their answers:

| type | settings | answer |
| --- | --- | --- |
| step_rating | notes (bool) | {"ratings": [-1, 0, 1, ...] one per step, "notes": {"3": "..."}} |
| outcome_rating | min, max (at most 9 points), min_label, max_label | an integer in min..max |
| preference | strength (bool) | {"choice": "A" / "B" / "tie", "strength": 1..3} |
| rubric | checks: [{name, label}] | {check name: true / false, ...} |
| single_choice | options: [{value, label}] | one option value |
| multiple_choice | options, min_selected, max_selected | a list of option values |
| text | min_length, max_length | a string |
| first_error | categories: [{value, label}] | {"step": 0.. or null, "category": value, "note"} |

A first_error question's `categories` are the campaign's error taxonomy (a default for web agents
when left out). `step` counts from 0; null says no step went wrong; `category` is required with a
step and absent without one; `note` is optional.
A first_error answer, once checked, also records `steps`, the length of the trajectory it was
given on, so that "no step went wrong" can be coded as that length when agreement is computed.

Every question has `name` (an identifier), `prompt`, and `required` (default true). Each scale
point, option and check gets a number key in the contractor UI, hence at most nine of each.
"""

import re
from typing import Any

from environments.engine.text import small_int
from labeling.questions import (
    DEFAULT_ERROR_CATEGORIES,
    FIRST_ERROR,
    LEVELS,
    MULTIPLE_CHOICE,
    OUTCOME_RATING,
    PREFERENCE,
    PREFERENCE_CHOICES,
    RUBRIC,
    SINGLE_CHOICE,
    STEP_RATING,
    STEP_VALUES,
    STRENGTHS,
    TEXT,
    TYPES,
)
from rlplatform.services import ServiceError

# Which questions make sense for each kind of campaign.
ALLOWED_TYPES = {
    "grade": (
        STEP_RATING,
        FIRST_ERROR,
        OUTCOME_RATING,
        RUBRIC,
        SINGLE_CHOICE,
        MULTIPLE_CHOICE,
        TEXT,
    ),
    "compare": (PREFERENCE, SINGLE_CHOICE, MULTIPLE_CHOICE, TEXT),
    "demonstrate": (OUTCOME_RATING, RUBRIC, SINGLE_CHOICE, MULTIPLE_CHOICE, TEXT),
}
__all__ = ["LEVELS", "LabelSchemaError", "validate_answers", "validate_schema"]
MAX_QUESTIONS = 20
MAX_KEYED = 9
MAX_TEXT = 10_000
MAX_NOTE = 1_000
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class LabelSchemaError(ServiceError):
    """Schema or answers that do not hold; `problems` maps each place at fault to what is wrong
    with it, every message naming its question."""

    def __init__(self, problems: dict[str, list[str]]):
        self.problems = problems
        first = next(iter(problems))
        super().__init__(
            "; ".join(message for messages in problems.values() for message in messages),
            field=first,
        )


class _Problems:
    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, where: str, message: str) -> None:
        self.found.setdefault(where, []).append(message)

    def raise_any(self) -> None:
        if self.found:
            raise LabelSchemaError(self.found)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# --- schemas ---------------------------------------------------------------------------------


def validate_schema(schema: Any, *, kind: str) -> list[dict]:
    """The schema, normalised (defaults filled in, options as {value, label}); raises
    LabelSchemaError naming each question at fault."""
    problems = _Problems()
    if not isinstance(schema, list):
        problems.add("schema", "the schema is a list of questions")
        problems.raise_any()
    if len(schema) > MAX_QUESTIONS:
        problems.add("schema", f"at most {MAX_QUESTIONS} questions; this schema has {len(schema)}")
    allowed = ALLOWED_TYPES.get(kind, TYPES)
    normalised: list[dict] = []
    seen: set[str] = set()
    for index, question in enumerate(schema):
        where = f"schema[{index}]"
        if not isinstance(question, dict):
            problems.add(where, f"question {index + 1} is not an object with a name and a type")
            continue
        name = question.get("name")
        label = f"question '{name}'" if isinstance(name, str) else f"question {index + 1}"
        if not isinstance(name, str) or not NAME.match(name):
            problems.add(
                where,
                f"{label}: the name must be lowercase letters, digits and underscores, "
                "starting with a letter (at most 40)",
            )
        elif name in seen:
            problems.add(where, f"{label}: another question already has this name")
        else:
            seen.add(name)
        qtype = question.get("type")
        if qtype not in TYPES:
            problems.add(where, f"{label}: unknown type {qtype!r}; use one of {', '.join(TYPES)}")
            continue
        if qtype not in allowed:
            problems.add(
                where,
                f"{label}: a {kind} campaign cannot ask a {qtype} question; "
                f"it may ask {', '.join(allowed)}",
            )
            continue
        required = question.get("required", True)
        if not isinstance(required, bool):
            problems.add(where, f"{label}: required is true or false")
        prompt = question.get("prompt", "")
        if not isinstance(prompt, str) or len(prompt) > 500:
            problems.add(where, f"{label}: the prompt is text of at most 500 characters")
            prompt = ""
        clean = {
            "name": name,
            "type": qtype,
            "prompt": prompt.strip() or str(name).replace("_", " ").capitalize(),
            "required": required if isinstance(required, bool) else True,
        }
        _SETTINGS[qtype](question, clean, label, where, problems)
        known = set(clean) | {"options", "checks", "categories"}
        unknown = sorted(set(question) - known)
        if unknown:
            problems.add(where, f"{label}: unknown setting {', '.join(map(repr, unknown))}")
        normalised.append(clean)
    if kind == "grade" and not schema:
        problems.add("schema", "a grade campaign needs at least one question")
    if kind == "compare" and not any(q.get("type") == PREFERENCE for q in normalised):
        problems.add("schema", "a compare campaign needs a preference question")
    if sum(1 for q in normalised if q["type"] == STEP_RATING) > 1:
        problems.add("schema", "at most one step_rating question: steps have one rating each")
    if sum(1 for q in normalised if q["type"] == FIRST_ERROR) > 1:
        problems.add("schema", "at most one first_error question: a trajectory has one first error")
    problems.raise_any()
    return normalised


def _step_rating_settings(question, clean, label, where, problems) -> None:
    notes = question.get("notes", True)
    if not isinstance(notes, bool):
        problems.add(where, f"{label}: notes is true or false")
    clean["notes"] = bool(notes)


def _outcome_settings(question, clean, label, where, problems) -> None:
    low, high = question.get("min", 1), question.get("max", 5)
    if not _is_int(low) or not _is_int(high):
        problems.add(where, f"{label}: min and max are integers")
        low, high = 1, 5
    elif high <= low:
        problems.add(where, f"{label}: max ({high}) must be greater than min ({low})")
    elif high - low + 1 > MAX_KEYED:
        problems.add(
            where,
            f"{label}: the scale {low} to {high} has {high - low + 1} points; "
            f"at most {MAX_KEYED}, one per number key",
        )
    clean["min"], clean["max"] = low, high
    for end in ("min_label", "max_label"):
        value = question.get(end, "")
        if not isinstance(value, str) or len(value) > 80:
            problems.add(where, f"{label}: {end} is text of at most 80 characters")
            value = ""
        clean[end] = value.strip()


def _preference_settings(question, clean, label, where, problems) -> None:
    strength = question.get("strength", True)
    if not isinstance(strength, bool):
        problems.add(where, f"{label}: strength is true or false")
    clean["strength"] = bool(strength)


def _options(question, clean, label, where, problems, key: str) -> None:
    raw = question.get(key)
    what = "checks" if key == "checks" else "options"
    if not isinstance(raw, list) or not raw:
        problems.add(where, f"{label}: give a non-empty list of {what}")
        clean[key] = []
        return
    if len(raw) > MAX_KEYED:
        problems.add(where, f"{label}: {len(raw)} {what}; at most {MAX_KEYED}, one per number key")
    out, seen = [], set()
    for position, option in enumerate(raw, start=1):
        if isinstance(option, str):
            option = {"value" if key == "options" else "name": option}
        if not isinstance(option, dict):
            problems.add(where, f"{label}: {what[:-1]} {position} is not text or an object")
            continue
        ident_key = "name" if key == "checks" else "value"
        value = option.get(ident_key)
        if not _text(value) or len(value) > 80:
            problems.add(
                where, f"{label}: {what[:-1]} {position} needs a {ident_key} (at most 80 chars)"
            )
            continue
        if value in seen:
            problems.add(where, f"{label}: {what[:-1]} {value!r} is listed twice")
            continue
        seen.add(value)
        shown = option.get("label") or value.replace("_", " ")
        if not isinstance(shown, str) or len(shown) > 200:
            problems.add(where, f"{label}: the label of {value!r} is text of at most 200 chars")
            shown = value
        out.append({ident_key: value, "label": shown})
    clean[key] = out


def _rubric_settings(question, clean, label, where, problems) -> None:
    _options(question, clean, label, where, problems, "checks")


def _single_settings(question, clean, label, where, problems) -> None:
    _options(question, clean, label, where, problems, "options")


def _multiple_settings(question, clean, label, where, problems) -> None:
    _options(question, clean, label, where, problems, "options")
    count = len(clean["options"])
    low = question.get("min_selected", 0)
    high = question.get("max_selected", count)
    if not _is_int(low) or not _is_int(high) or low < 0 or high < max(low, 1):
        problems.add(where, f"{label}: min_selected and max_selected are integers, 0 <= min <= max")
        low, high = 0, count
    elif count and high > count:
        problems.add(where, f"{label}: max_selected ({high}) exceeds the {count} options")
    clean["min_selected"], clean["max_selected"] = low, high


def _text_settings(question, clean, label, where, problems) -> None:
    low = question.get("min_length", 0)
    high = question.get("max_length", 2000)
    if not _is_int(low) or not _is_int(high) or low < 0 or high < max(low, 1) or high > MAX_TEXT:
        problems.add(
            where,
            f"{label}: min_length and max_length are integers with "
            f"0 <= min_length <= max_length <= {MAX_TEXT}",
        )
        low, high = 0, 2000
    clean["min_length"], clean["max_length"] = low, high


def _first_error_settings(question, clean, label, where, problems) -> None:
    raw = question.get("categories")
    if raw is None:
        clean["categories"] = [dict(category) for category in DEFAULT_ERROR_CATEGORIES]
    else:
        _options({"options": raw}, clean, label, where, problems, "options")
        clean["categories"] = clean.pop("options")
    for position, category in enumerate(clean["categories"], start=1):
        category["key"] = str(position)


_SETTINGS = {
    STEP_RATING: _step_rating_settings,
    OUTCOME_RATING: _outcome_settings,
    PREFERENCE: _preference_settings,
    RUBRIC: _rubric_settings,
    SINGLE_CHOICE: _single_settings,
    MULTIPLE_CHOICE: _multiple_settings,
    TEXT: _text_settings,
    FIRST_ERROR: _first_error_settings,
}


# --- answers ---------------------------------------------------------------------------------


def validate_answers(
    schema: list[dict],
    answers: Any,
    *,
    steps: int | None = None,
    partial: bool = False,
    prefix: str = "answers",
) -> dict:
    """The answers, normalised, for a (valid) schema. `steps` is the trajectory's length for
    step ratings. `partial` (gold answers) accepts any subset of the questions."""
    problems = _Problems()
    if not isinstance(answers, dict):
        problems.add(prefix, "answers are an object mapping each question's name to its answer")
        problems.raise_any()
    by_name = {question["name"]: question for question in schema}
    for name in answers:
        if name not in by_name:
            known = ", ".join(by_name) or "none"
            problems.add(f"{prefix}.{name}", f"unknown question '{name}'; questions: {known}")
    clean: dict[str, Any] = {}
    for question in schema:
        name = question["name"]
        where = f"{prefix}.{name}"
        value = answers.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if question["required"] and not partial:
                problems.add(where, f"question '{name}' is required: {_ask(question)}")
            continue
        checked = _check_answer(question, value, steps, where, problems, partial=partial)
        if checked is not None:
            clean[name] = checked
    problems.raise_any()
    return clean


def _ask(question: dict) -> str:
    return {
        STEP_RATING: "rate every step -1, 0 or +1",
        OUTCOME_RATING: f"give a rating from {question.get('min')} to {question.get('max')}",
        PREFERENCE: "choose A, B or tie",
        RUBRIC: "answer every check yes or no",
        SINGLE_CHOICE: "choose one option",
        MULTIPLE_CHOICE: "choose the options that apply",
        TEXT: "write an answer",
        FIRST_ERROR: "mark the first step that went wrong, or say that none did",
    }[question["type"]]


def _check_answer(
    question: dict, value: Any, steps: int | None, where: str, problems, *, partial: bool = False
) -> Any:
    name = f"question '{question['name']}'"
    qtype = question["type"]
    if qtype == STEP_RATING:
        return _check_steps(question, value, steps, where, name, problems, partial=partial)
    if qtype == FIRST_ERROR:
        return _check_first_error(question, value, steps, where, name, problems)
    if qtype == OUTCOME_RATING:
        low, high = question["min"], question["max"]
        if not _is_int(value):
            problems.add(where, f"{name}: the rating is a whole number from {low} to {high}")
            return None
        if not low <= value <= high:
            problems.add(where, f"{name}: {value} is outside the scale {low} to {high}")
            return None
        return value
    if qtype == PREFERENCE:
        if isinstance(value, str):
            value = {"choice": value}
        if not isinstance(value, dict) or value.get("choice") not in PREFERENCE_CHOICES:
            problems.add(where, f"{name}: choose 'A', 'B' or 'tie'")
            return None
        extra = set(value) - {"choice", "strength"}
        if extra:
            problems.add(where, f"{name}: unknown field {', '.join(sorted(extra))}")
        out = {"choice": value["choice"]}
        strength = value.get("strength")
        if value["choice"] == "tie":
            if strength not in (None, 0):
                problems.add(where, f"{name}: a tie has no strength")
            return out
        if question.get("strength"):
            if strength is None and question["required"]:
                problems.add(where, f"{name}: say how much better: strength 1, 2 or 3")
                return None
            if strength is not None and strength not in STRENGTHS:
                problems.add(where, f"{name}: strength is 1 (slightly), 2 (clearly) or 3 (much)")
                return None
            if strength is not None:
                out["strength"] = strength
        return out
    if qtype == RUBRIC:
        checks = [check["name"] for check in question["checks"]]
        if not isinstance(value, dict):
            problems.add(where, f"{name}: answer each check with true or false")
            return None
        unknown = [key for key in value if key not in checks]
        if unknown:
            problems.add(
                where,
                f"{name}: unknown check {', '.join(map(repr, unknown))}; "
                f"checks: {', '.join(checks)}",
            )
        wrong = [key for key in checks if key in value and not isinstance(value[key], bool)]
        if wrong:
            problems.add(where, f"{name}: {', '.join(wrong)} must be true or false")
        missing = [key for key in checks if key not in value]
        if missing and question["required"] and not partial:
            problems.add(where, f"{name}: check {', '.join(missing)} is not answered")
        return {key: value[key] for key in checks if isinstance(value.get(key), bool)}
    if qtype == SINGLE_CHOICE:
        options = [option["value"] for option in question["options"]]
        if value not in options:
            problems.add(
                where, f"{name}: {value!r} is not an option; options: {', '.join(options)}"
            )
            return None
        return value
    if qtype == MULTIPLE_CHOICE:
        options = [option["value"] for option in question["options"]]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.add(where, f"{name}: give a list of options")
            return None
        unknown = [v for v in value if v not in options]
        if unknown:
            problems.add(
                where,
                f"{name}: {', '.join(map(repr, unknown))} not an option; "
                f"options: {', '.join(options)}",
            )
            return None
        if len(set(value)) != len(value):
            problems.add(where, f"{name}: an option is chosen twice")
            return None
        low, high = question["min_selected"], question["max_selected"]
        if not low <= len(value) <= high:
            problems.add(where, f"{name}: choose between {low} and {high} options")
            return None
        return [option for option in options if option in value]
    # TEXT
    if not isinstance(value, str):
        problems.add(where, f"{name}: the answer is text")
        return None
    value = value.strip()
    low, high = question["min_length"], question["max_length"]
    if len(value) < low:
        problems.add(where, f"{name}: write at least {low} characters (you wrote {len(value)})")
        return None
    if len(value) > high:
        problems.add(where, f"{name}: at most {high} characters (you wrote {len(value)})")
        return None
    return value


def _check_steps(question, value, steps, where, name, problems, *, partial=False) -> dict | None:
    if isinstance(value, list):
        value = {"ratings": value}
    if not isinstance(value, dict) or not isinstance(value.get("ratings"), list):
        problems.add(where, f'{name}: give {{"ratings": [-1, 0 or 1 for each step]}}')
        return None
    ratings = value["ratings"]
    bad = [
        f"step {index + 1} is rated {rating!r}"
        for index, rating in enumerate(ratings)
        if rating is not None and (not _is_int(rating) or rating not in STEP_VALUES)
    ]
    if bad:
        problems.add(where, f"{name}: {', '.join(bad[:5])}; a step rating is -1, 0 or +1")
        return None
    if steps is not None and len(ratings) != steps:
        problems.add(where, f"{name}: {len(ratings)} ratings for a trajectory of {steps} steps")
        return None
    unrated = [str(index + 1) for index, rating in enumerate(ratings) if rating is None]
    if unrated and question["required"] and not partial:
        shown = ", ".join(unrated[:8]) + (" ..." if len(unrated) > 8 else "")
        problems.add(where, f"{name}: step{'s' if len(unrated) > 1 else ''} {shown} not rated")
        return None
    notes = value.get("notes") or {}
    clean_notes: dict[str, str] = {}
    if not isinstance(notes, dict):
        problems.add(where, f"{name}: notes map a step number to text")
        return None
    if notes and not question.get("notes"):
        problems.add(where, f"{name}: this question takes no notes")
        return None
    for key, note in notes.items():
        index = small_int(str(key), max_digits=6)
        index = -1 if index is None else index
        if not 0 <= index < len(ratings):
            problems.add(where, f"{name}: a note for step {key}, which does not exist")
            continue
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            problems.add(where, f"{name}: the note on step {index + 1} is text (<= {MAX_NOTE})")
            continue
        if note.strip():
            clean_notes[str(index)] = note.strip()
    out: dict[str, Any] = {"ratings": list(ratings)}
    if clean_notes:
        out["notes"] = clean_notes
    return out


def _check_first_error(question, value, steps, where, name, problems) -> dict | None:
    if not isinstance(value, dict) or "step" not in value:
        problems.add(where, f'{name}: give {{"step": a step number from 0, or null, "category"}}')
        return None
    extra = sorted(set(value) - {"step", "category", "note", "steps"})
    if extra:
        problems.add(where, f"{name}: unknown field {', '.join(map(repr, extra))}")
        return None
    step, category, note = value["step"], value.get("category"), value.get("note")
    categories = [option["value"] for option in question["categories"]]
    out: dict[str, Any] = {"step": step, "category": None}
    if step is not None:
        if not _is_int(step):
            problems.add(where, f"{name}: step is a whole number from 0, or null (no error)")
            return None
        if step < 0 or (steps is not None and step >= steps):
            last = f"0 to {steps - 1}" if steps else "none"
            problems.add(
                where, f"{name}: step {step} is out of range; the trajectory's steps are {last}"
            )
            return None
        if category is None:
            problems.add(where, f"{name}: say what went wrong at step {step}: give a category")
            return None
        if category not in categories:
            problems.add(
                where,
                f"{name}: category {category!r} is not in the taxonomy; "
                f"categories: {', '.join(categories)}",
            )
            return None
        out["category"] = category
    elif category is not None:
        problems.add(where, f"{name}: no step went wrong, so there is no category")
        return None
    if note is not None:
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            problems.add(where, f"{name}: the note is text of at most {MAX_NOTE} characters")
            return None
        if note.strip():
            out["note"] = note.strip()
    if steps is not None:
        out["steps"] = steps
    elif _is_int(value.get("steps")) and value["steps"] > 0:
        out["steps"] = value["steps"]
    return out
