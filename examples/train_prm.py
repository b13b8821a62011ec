"""Train a process reward model (PRM) on a `stepwise` export, with plain transformers.

TRL 1.16 has no PRM trainer, so this script is the trainer. A PRM here is a token classifier
over a causal language model (`AutoModelForTokenClassification`, two classes): a row's `prompt`
and its `completions` (its steps) are joined with newlines and tokenized, and each step's label
(1 good, 0 bad) sits on the step's last token; every other token is ignored. The score of a step
is then the probability of class 1 at its last token. With the export's default rows (one graded
decision a row, within about 3,500 characters), every row fits the default 1,024 tokens.

    .venv/bin/python examples/train_prm.py --data stepwise.jsonl --model Qwen/Qwen3-0.6B \\
        --output-dir prm --epochs 1

`--data` is the export's `data.jsonl` or `data.parquet`; `--model` a model name or a local folder
(its tokenizer comes from the same place).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import datasets
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    Trainer,
    TrainingArguments,
)

IGNORED = -100
SEPARATOR = "\n"


def load_rows(path: str) -> datasets.Dataset:
    loader = "parquet" if Path(path).suffix == ".parquet" else "json"
    return datasets.load_dataset(loader, data_files=path, split="train")


def tokenize_row(row: dict, tokenizer, max_length: int) -> dict:
    """Token ids of the prompt and the steps, each step followed by the separator, with the
    step's label on its last token. A row longer than `max_length` keeps its end (the labelled
    steps) and is marked `truncated`."""
    ids = tokenizer(row["prompt"] + SEPARATOR, add_special_tokens=False)["input_ids"]
    labels = [IGNORED] * len(ids)
    separator = tokenizer(SEPARATOR, add_special_tokens=False)["input_ids"]
    for completion, good in zip(row["completions"], row["labels"], strict=True):
        step = tokenizer(completion, add_special_tokens=False)["input_ids"]
        ids += step
        labels += [IGNORED] * (len(step) - 1) + [int(good)]
        ids += separator
        labels += [IGNORED] * len(separator)
    truncated = len(ids) > max_length
    if truncated:
        ids, labels = ids[-max_length:], labels[-max_length:]
    return {
        "input_ids": ids,
        "attention_mask": [1] * len(ids),
        "labels": labels,
        "truncated": truncated,
    }


TOKENIZED = datasets.Features(
    {
        "input_ids": datasets.Sequence(datasets.Value("int32")),
        "attention_mask": datasets.Sequence(datasets.Value("int8")),
        # Token labels (-100, 0, 1), not the export's booleans of the same name.
        "labels": datasets.Sequence(datasets.Value("int64")),
        "truncated": datasets.Value("bool"),
    }
)


def prepare(rows: datasets.Dataset, tokenizer, max_length: int) -> datasets.Dataset:
    return rows.map(
        tokenize_row,
        fn_kwargs={"tokenizer": tokenizer, "max_length": max_length},
        remove_columns=rows.column_names,
        features=TOKENIZED,
    )


def main(argv: list[str] | None = None) -> Trainer:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a stepwise export's data file")
    parser.add_argument("--model", required=True, help="a model name or local folder")
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-5)
    parser.add_argument(
        "--local-files-only", action="store_true", help="never download (a local --model)"
    )
    args = parser.parse_args(argv)

    tokenizer = AutoTokenizer.from_pretrained(args.model, local_files_only=args.local_files_only)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForTokenClassification.from_pretrained(
        args.model,
        num_labels=2,
        id2label={0: "bad", 1: "good"},
        label2id={"bad": 0, "good": 1},
        local_files_only=args.local_files_only,
    )
    model.config.pad_token_id = tokenizer.pad_token_id

    train = prepare(load_rows(args.data), tokenizer, args.max_length)
    truncated = sum(train["truncated"])
    print(f"{train.num_rows} rows, {truncated} longer than {args.max_length} tokens (cut)")
    train = train.remove_columns("truncated")

    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=args.output_dir,
            num_train_epochs=args.epochs,
            max_steps=args.max_steps,
            per_device_train_batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            logging_steps=1,
            save_strategy="no",
            report_to="none",
        ),
        train_dataset=train,
        data_collator=DataCollatorForTokenClassification(tokenizer),
    )
    trainer.train()
    trainer.save_model(args.output_dir)
    tokenizer.save_pretrained(args.output_dir)
    return trainer


if __name__ == "__main__":
    main()
