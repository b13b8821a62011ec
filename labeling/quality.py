"""Quality figures, as pure functions of answers (no database): Krippendorff's alpha, the
aggregated label of an item, gold scoring, and agreement per question of a campaign.

Krippendorff's alpha follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability":
values are paired within each unit, pairs build a coincidence matrix `o[c][k]` (each unit with
`m` values contributes its pairs weighted 1/(m-1)), and

    alpha = 1 - (n - 1) * sum o[c][k] * d(c, k) / sum n_c * n_k * d(c, k)

where `n_c` are the matrix's marginals, `n` their total, and `d` the squared difference function
of the level of measurement: nominal (0 when equal, else 1), ordinal (the ranks between the two
values, by the marginals), interval ((c - k)^2) or ratio (((c - k) / (c + k))^2). Units with
fewer than two values are not pairable and do not count.
"""

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from statistics import mean, median, pstdev
from typing import Any

from labeling import questions as schemas

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def krippendorff_alpha(units: Iterable[Sequence[Hashable]], level: str = "nominal") -> float | None:
    """Alpha for `units`, each the values its coders gave (missing values left out, or None).

    Returns None when alpha is undefined: no unit has two values, or every value is the same
    (no variation to disagree about).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    coincidences: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for unit in units:
        values = [value for value in unit if value is not None]
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                if pairs:
                    coincidences[(c, k)] += pairs / (m - 1)
    marginals: dict[Hashable, float] = defaultdict(float)
    for (c, _), count in coincidences.items():
        marginals[c] += count
    n = sum(marginals.values())
    if n <= 1:
        return None
    delta = _delta_function(level, marginals)
    values = list(marginals)
    observed = sum(count * delta(c, k) for (c, k), count in coincidences.items())
    expected = sum(marginals[c] * marginals[k] * delta(c, k) for c in values for k in values)
    if expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


def _delta_function(level: str, marginals: dict[Hashable, float]):
    if level == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    if level == "interval":
        return lambda c, k: float(c - k) ** 2
    if level == "ratio":
        return lambda c, k: 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
    ranked = sorted(marginals)
    position = {value: index for index, value in enumerate(ranked)}
    cumulative = [0.0]
    for value in ranked:
        cumulative.append(cumulative[-1] + marginals[value])

    def ordinal(c, k) -> float:
        low, high = sorted((position[c], position[k]))
        if low == high:
            return 0.0
        between = cumulative[high + 1] - cumulative[low]
        return (between - (marginals[ranked[low]] + marginals[ranked[high]]) / 2) ** 2

    return ordinal


# --- units per question ---------------------------------------------------------------------


def question_units(
    question: dict, answers_by_item: dict[Any, list[dict]]
) -> list[tuple[Any, list[Hashable]]]:
    """The reliability units a question yields, each as (item, values): one per item for
    ratings, preferences and single choices; one per step for step ratings; one per check or
    option for rubrics and multiple choices (yes/no each)."""
    name, qtype = question["name"], question["type"]
    units: list[tuple[Any, list[Hashable]]] = []
    for item, answers_list in answers_by_item.items():
        given = [answers[name] for answers in answers_list if answers.get(name) is not None]
        if not given:
            continue
        if qtype == schemas.STEP_RATING:
            length = max(len(answer["ratings"]) for answer in given)
            for index in range(length):
                units.append(
                    (item, [a["ratings"][index] for a in given if index < len(a["ratings"])])
                )
        elif qtype == schemas.OUTCOME_RATING or qtype == schemas.SINGLE_CHOICE:
            units.append((item, given))
        elif qtype == schemas.PREFERENCE:
            units.append((item, [answer["choice"] for answer in given]))
        elif qtype == schemas.RUBRIC:
            for check in question["checks"]:
                units.append((item, [a[check["name"]] for a in given if check["name"] in a]))
        elif qtype == schemas.MULTIPLE_CHOICE:
            for option in question["options"]:
                units.append((item, [option["value"] in answer for answer in given]))
        elif qtype == schemas.FIRST_ERROR:
            units.append((item, [first_error_step_code(answer) for answer in given]))
    return units


def first_error_step_code(answer: dict) -> int | None:
    """The step of a first_error answer as a number on one interval scale: the marked step, or
    the trajectory's length when no step went wrong (one past its last step), None when that
    length is unknown."""
    if answer["step"] is not None:
        return answer["step"]
    return answer.get("steps")


def first_error_category_units(
    question: dict, answers_by_item: dict[Any, list[dict]]
) -> list[tuple[Any, list[Hashable]]]:
    """The nominal units of a first_error question's category: one per item, the categories of
    the answers that mark an error (an answer of "no error" has no category to agree on)."""
    name = question["name"]
    units: list[tuple[Any, list[Hashable]]] = []
    for item, answers_list in answers_by_item.items():
        given = [a[name]["category"] for a in answers_list if (a.get(name) or {}).get("category")]
        if given:
            units.append((item, given))
    return units


def first_error_step_labels(answer: dict | None, steps: int) -> list[bool | None]:
    """Per-step labels from a first_error answer, by PRM800K's convention: the steps before the
    marked one are good (True), the marked one bad (False), the later ones unlabelled (None);
    with no step marked every step is good. No answer (or a tie): all unlabelled."""
    if answer is None:
        return [None] * steps
    marked = answer.get("step")
    if marked is None:
        return [True] * steps
    return [True] * marked + [False] + [None] * (steps - marked - 1)


def campaign_agreement(schema: list[dict], answers_by_item: dict[Any, list[dict]]) -> dict:
    """Alpha per question at the question's level (ordinal for ratings, nominal for choices,
    checks and preferences; a first_error question twice: `name` for its step, interval, and
    `name.category` for its category, nominal), and for the campaign: the question alphas
    weighted by how many pairable values each rests on. Each figure comes with the number of
    items it rests on (items with at least two answers to the question)."""
    questions = []
    weighted, weights = 0.0, 0
    parts = []
    for question in schema:
        level = schemas.LEVELS.get(question["type"])
        if level is None:
            continue
        parts.append((question, None, level, question_units(question, answers_by_item)))
        if question["type"] == schemas.FIRST_ERROR:
            units = first_error_category_units(question, answers_by_item)
            parts.append((question, "category", "nominal", units))
    for question, part, level, units in parts:
        pairable = [(item, values) for item, values in units if len(values) >= 2]
        alpha = krippendorff_alpha((values for _, values in pairable), level)
        values = sum(len(values) for _, values in pairable)
        items = len({item for item, _ in pairable})
        questions.append(
            {
                "name": question["name"] + (f".{part}" if part else ""),
                "type": question["type"],
                "level": level,
                "alpha": None if alpha is None else round(alpha, 4),
                "items": items,
                "units": len(pairable),
                "values": values,
            }
        )
        if alpha is not None:
            weighted += alpha * values
            weights += values
    items = sum(1 for answers in answers_by_item.values() if len(answers) >= 2)
    return {
        "alpha": round(weighted / weights, 4) if weights else None,
        "items": items,
        "questions": questions,
    }


# --- aggregation ----------------------------------------------------------------------------

# How an aggregated question stands. Decided: one value leads (or, for an outcome rating, the
# ratings are close) with confidence at or above the campaign's threshold. Tie: two or more
# values share the most votes (on a step or a rubric check, too), so no value is chosen. Split:
# a value leads, or the ratings have a mean, but the confidence is below the threshold.
DECIDED, TIE, SPLIT = "decided", "tie", "split"


def _majority(values: list[Hashable]) -> tuple[Hashable | None, float]:
    """The value with the most votes and its share of them; None when values tie for the
    most (no order breaks a tie: a tie is not a label)."""
    ranked = Counter(values).most_common(2)
    best = ranked[0][1]
    if len(ranked) > 1 and ranked[1][1] == best:
        return None, best / len(values)
    return ranked[0][0], best / len(values)


def _first_error_majority(given: list[dict], shares: list[float]) -> tuple[dict | None, bool]:
    """The majority step (None, no error, counts as a value like any step) and, among the answers
    that mark it, the majority category; appends each share to `shares`. Returns (the answer or
    None on a tie of steps, whether anything tied)."""
    steps = [("none" if a["step"] is None else a["step"]) for a in given]
    step, share = _majority(steps)
    shares.append(share)
    if step is None:
        return None, True
    out: dict[str, Any] = {"step": None if step == "none" else step, "category": None}
    lengths = [a["steps"] for a in given if "steps" in a]
    if lengths:
        out["steps"] = max(lengths)
    if step == "none":
        return out, False
    category, share = _majority([a["category"] for a in given if a["step"] == step])
    shares.append(share)
    out["category"] = category
    return out, category is None


def aggregate_answers(schema: list[dict], answers_list: list[dict], *, threshold: float) -> dict:
    """The aggregated label of one item from its judgments' answers.

    Returns {"answers": {question: value, in the answers' own shape}, "confidence": {question:
    0..1 or None}, "status": {question: "decided" | "tie" | "split"}, "decided": whether every
    question is, "consensus": mean confidence or None, "n": judgments}.

    Nominal questions take the majority (confidence: its share of the votes); a tie leaves the
    value None (a step's rating, a rubric check's value, a preference or single choice). Outcome
    ratings take the mean (confidence: 1 - standard deviation / half the scale's range); step
    ratings the majority per step (confidence: the mean per-step share); a first error the
    majority step, then the majority category among the answers marking that step (confidence:
    the mean of the two shares). A question is decided
    when it has no tie and its confidence is at least `threshold`; with a single judgment,
    confidence is None and the question is decided (nobody disagrees).
    """
    answers_out: dict[str, Any] = {}
    confidence: dict[str, float | None] = {}
    status: dict[str, str] = {}
    for question in schema:
        name, qtype = question["name"], question["type"]
        given = [answers[name] for answers in answers_list if answers.get(name) is not None]
        if not given or qtype == schemas.TEXT:
            continue
        shares: list[float] = []
        tied = False
        if qtype == schemas.STEP_RATING:
            length = max(len(answer["ratings"]) for answer in given)
            ratings = []
            for index in range(length):
                votes = [a["ratings"][index] for a in given if index < len(a["ratings"])]
                value, share = _majority(votes)
                ratings.append(value)
                shares.append(share)
            answers_out[name] = {"ratings": ratings}
            tied = None in ratings
        elif qtype == schemas.OUTCOME_RATING:
            answers_out[name] = round(mean(given), 3)
            half_range = (question["max"] - question["min"]) / 2
            spread = pstdev(given) / half_range if half_range else 0.0
            shares.append(max(0.0, 1 - spread))
        elif qtype == schemas.PREFERENCE:
            choice, share = _majority([answer["choice"] for answer in given])
            shares.append(share)
            tied = choice is None
            out: dict[str, Any] | None = None if tied else {"choice": choice}
            strengths = [a["strength"] for a in given if a["choice"] == choice and "strength" in a]
            if out is not None and strengths and choice != "tie":
                out["strength"] = round(median(strengths))
            answers_out[name] = out
        elif qtype == schemas.RUBRIC:
            result = {}
            for check in question["checks"]:
                votes = [a[check["name"]] for a in given if check["name"] in a]
                if votes:
                    result[check["name"]], share = _majority(votes)
                    shares.append(share)
            answers_out[name] = result
            tied = None in result.values()
        elif qtype == schemas.SINGLE_CHOICE:
            value, share = _majority(given)
            answers_out[name] = value
            shares.append(share)
            tied = value is None
        elif qtype == schemas.MULTIPLE_CHOICE:
            chosen = []
            for option in question["options"]:
                share = sum(option["value"] in answer for answer in given) / len(given)
                if share > 0.5:
                    chosen.append(option["value"])
                tied = tied or share == 0.5
                shares.append(max(share, 1 - share))
            answers_out[name] = chosen
        elif qtype == schemas.FIRST_ERROR:
            answers_out[name], tied = _first_error_majority(given, shares)
        several = len(given) >= 2
        confidence[name] = round(mean(shares), 4) if several and shares else None
        if not several:
            status[name] = DECIDED
        elif tied:
            status[name] = TIE
        else:
            status[name] = DECIDED if (confidence[name] or 0.0) >= threshold else SPLIT
    known = [value for value in confidence.values() if value is not None]
    return {
        "answers": answers_out,
        "confidence": confidence,
        "status": status,
        "decided": all(value == DECIDED for value in status.values()),
        "consensus": round(mean(known), 4) if known else None,
        "n": len(answers_list),
    }


# --- gold -----------------------------------------------------------------------------------


def answer_score(question: dict, answer: Any, expected: Any) -> float | None:
    """How well `answer` matches `expected` for one question, 0..1 (None: not scorable).
    Ratings: 1 within half a point, 0.5 within one and a half, else 0; step ratings and rubric
    checks: the share that match; multiple choices: the Jaccard overlap; others: equality.
    Preferences compare the choice, not its strength."""
    qtype = question["type"]
    if expected is None or qtype == schemas.TEXT:
        return None
    if answer is None:
        return 0.0
    if qtype == schemas.STEP_RATING:
        pairs = [
            (given, wanted)
            for given, wanted in zip(answer["ratings"], expected["ratings"], strict=False)
            if wanted is not None
        ]
        if not pairs:
            return None
        return sum(given == wanted for given, wanted in pairs) / len(pairs)
    if qtype == schemas.OUTCOME_RATING:
        distance = abs(answer - expected)
        return 1.0 if distance < 0.5 else 0.5 if distance < 1.5 else 0.0
    if qtype == schemas.PREFERENCE:
        return 1.0 if answer["choice"] == expected["choice"] else 0.0
    if qtype == schemas.RUBRIC:
        # A check the expected answer leaves open (None: a tie in a consensus) is not scored.
        checks = [name for name, value in expected.items() if value is not None]
        if not checks:
            return None
        return sum(answer.get(name) == expected[name] for name in checks) / len(checks)
    if qtype == schemas.FIRST_ERROR:
        # The step is what matters most; the category only counts on the right step.
        if answer["step"] != expected["step"]:
            return 0.0
        if expected["step"] is None or expected.get("category") is None:
            return 1.0
        return 1.0 if answer.get("category") == expected["category"] else 0.5
    if qtype == schemas.MULTIPLE_CHOICE:
        given, wanted = set(answer), set(expected)
        return 1.0 if not given | wanted else len(given & wanted) / len(given | wanted)
    return 1.0 if answer == expected else 0.0


def gold_score(schema: list[dict], answers: dict, gold: dict) -> float | None:
    """The mean score over the questions the gold answer gives (see answer_score)."""
    scores = [
        score
        for question in schema
        if question["name"] in gold
        and (score := answer_score(question, answers.get(question["name"]), gold[question["name"]]))
        is not None
    ]
    return round(mean(scores), 4) if scores else None
