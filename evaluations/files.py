"""An evaluation's results as files to download: CSV (a row per family and one for all of
them) and JSON (the evaluation as the API shows it, report included)."""

import csv
import io
from typing import Any

from evaluations.models import Evaluation

CSV_COLUMNS = [
    "evaluation",
    "policy",
    "environment",
    "split",
    "reward_mode",
    "observation_mode",
    "k",
    "family",
    "tasks",
    "episodes",
    "successes",
    "errors",
    "success_rate",
    "success_low",
    "success_high",
    "pass_at_1",
    "pass_at_k",
    "pass_hat_k",
    "mean_reward",
    "mean_steps",
]
ALL_FAMILIES = "(all)"


def _text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _csv_row(evaluation: Evaluation, family: str, figures: dict[str, Any]) -> list[str]:
    k = str(evaluation.attempts)
    interval = figures["success_interval"] or [None, None]
    return [
        str(evaluation.pk),
        _text(evaluation.policy_label),
        evaluation.env_id,
        evaluation.split,
        evaluation.reward_mode,
        evaluation.observation_mode,
        k,
        _text(family),
        str(figures["tasks"]),
        str(figures["episodes"]),
        str(figures["successes"]),
        str(figures["errors"]),
        _number(figures["success_rate"]),
        _number(interval[0]),
        _number(interval[1]),
        _number(figures["pass_at_k"].get("1")),
        _number(figures["pass_at_k"].get(k)),
        _number(figures["pass_hat_k"].get(k)),
        _number(figures["mean_reward"]),
        _number(figures["mean_steps"]),
    ]


def results_csv(evaluation: Evaluation) -> str:
    """The report as CSV: a row per family, then the row for all of them. Empty cells where a
    figure has no value (no episode of that family was played)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    report = evaluation.report or {"families": [], "overall": None}
    for figures in report["families"]:
        writer.writerow(_csv_row(evaluation, figures["family"], figures))
    if report["overall"]:
        writer.writerow(_csv_row(evaluation, ALL_FAMILIES, report["overall"]))
    return out.getvalue()
