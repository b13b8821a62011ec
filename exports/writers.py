"""Streaming writers: rows go to disk as they come, and each file's sha256 is known when it
closes. The same rows always give the same bytes."""

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

# Arrow's own allocator keeps freed memory for reuse and a long Parquet export kept growing;
# the system allocator gives it back, so the footprint stays flat.
pa.set_memory_pool(pa.system_memory_pool())


class JsonlWriter:
    extension = "jsonl"

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self.file = open(path, "wb")  # noqa: SIM115  (closed in close())
        self.rows = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        # orjson: compact UTF-8 JSON with sorted keys, several times faster than json (step rows
        # are many, each with its prompt); a batch goes to the file in one write.
        lines = [orjson.dumps(row, option=orjson.OPT_SORT_KEYS) for row in rows]
        if lines:
            self.file.write(b"\n".join(lines) + b"\n")
        self.rows += len(rows)

    def close(self) -> None:
        self.file.close()


class ParquetWriter:
    extension = "parquet"

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = path
        self.schema = schema
        # No statistics of wall-clock values and no page index: identical input, identical bytes.
        self.writer = pq.ParquetWriter(path, schema, compression="zstd", write_page_index=False)
        self.rows = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        self.writer.write_table(pa.Table.from_pylist(rows, schema=self.schema))
        self.rows += len(rows)

    def close(self) -> None:
        self.writer.close()


WRITERS = {"jsonl": JsonlWriter, "parquet": ParquetWriter}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
