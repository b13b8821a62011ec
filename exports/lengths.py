"""Row lengths for the manifest: how long what a trainer tokenizes of each row is, in
characters and, with a tokenizer, in tokens; percentiles kept in constant memory."""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.conf import settings

from environments.engine.prompts import ROW_BUDGET_CHARS
from rlplatform.services import ServiceError

# TRL's trainers' default max_length.
DEFAULT_CONTEXT_TOKENS = 1024


def tokenizer_dir(name: str) -> Path:
    """The folder of a tokenizer named by an export: a folder under TOKENIZERS_DIR (the
    platform loads tokenizers from its own disk only, never from a hub)."""
    root = Path(settings.TOKENIZERS_DIR).resolve()
    path = (root / name).resolve() if isinstance(name, str) and "\x00" not in name else None
    if path is None or not path.is_relative_to(root) or path == root:
        raise ServiceError(
            f"tokenizer must name a folder under the platform's TOKENIZERS_DIR ({root})",
            field="filters.tokenizer",
        )
    if not any((path / file).is_file() for file in ("tokenizer.json", "tokenizer_config.json")):
        raise ServiceError(
            f"tokenizer '{name}' has no tokenizer.json or tokenizer_config.json under "
            "TOKENIZERS_DIR",
            field="filters.tokenizer",
        )
    return path


def load_tokenizer(name: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        str(tokenizer_dir(name)), local_files_only=True, trust_remote_code=False
    )


def percentiles(histogram: Counter[int]) -> dict[str, int]:
    """p50, p95 and max of the values a histogram counts (nearest rank)."""
    total = sum(histogram.values())
    ranks = {"p50": max(1, -(-total * 50 // 100)), "p95": max(1, -(-total * 95 // 100))}
    result: dict[str, int] = {}
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        for name, rank in ranks.items():
            if name not in result and seen >= rank:
                result[name] = value
    result["max"] = max(histogram)
    return {name: result[name] for name in ("p50", "p95", "max")}


class RowLengths:
    """Lengths of the rows of one export. A row's length is its longest sequence (a preference
    row is two: prompt with chosen, prompt with rejected): characters of the messages' content,
    and tokens as the tokenizer's chat template lays the conversation out."""

    def __init__(self, tokenizer_name: str | None = None):
        self.tokenizer_name = tokenizer_name
        self.tokenizer = load_tokenizer(tokenizer_name) if tokenizer_name else None
        self.chars: Counter[int] = Counter()
        self.tokens: Counter[int] = Counter()

    def add(self, sequences: list[list[dict[str, str]] | str]) -> None:
        if not sequences:
            return
        chars = max(map(char_length, sequences))
        self.chars[chars] = self.chars.get(chars, 0) + 1
        if self.tokenizer is not None:
            self.tokens[max(self.token_length(sequence) for sequence in sequences)] += 1

    def token_length(self, sequence: list[dict[str, str]] | str) -> int:
        if isinstance(sequence, str):
            return len(self.tokenizer(sequence, add_special_tokens=True)["input_ids"])
        if self.tokenizer.chat_template:
            ids = self.tokenizer.apply_chat_template(sequence, tokenize=True, return_dict=True)
            return len(ids["input_ids"])
        text = "\n".join(message["content"] for message in sequence)
        return len(self.tokenizer(text)["input_ids"])

    def summary(self) -> dict[str, Any] | None:
        if not self.chars:
            return None
        rows = sum(self.chars.values())
        within = sum(count for length, count in self.chars.items() if length <= ROW_BUDGET_CHARS)
        summary: dict[str, Any] = {
            "chars": percentiles(self.chars),
            "budget_chars": ROW_BUDGET_CHARS,
            "within_budget_chars": round(within / rows, 4),
        }
        if self.tokenizer is not None:
            fit = sum(c for length, c in self.tokens.items() if length <= DEFAULT_CONTEXT_TOKENS)
            summary["tokenizer"] = self.tokenizer_name
            summary["tokens"] = percentiles(self.tokens)
            summary["within_1024_tokens"] = round(fit / rows, 4)
        return summary


def char_length(sequence: list[dict[str, str]] | str) -> int:
    if isinstance(sequence, str):
        return len(sequence)
    return sum(map(len, map(itemgetter("content"), sequence)))
