"""Streaming writers: rows go to disk as they come, and each file's sha256 is known when it
closes. The same rows always give the same bytes."""

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

# Arrow's own allocator keeps freed memory for reuse and a long Parquet export kept growing;
# the system allocator gives it back, so the footprint stays flat.
pa.set_memory_pool(pa.system_memory_pool())

# A Parquet row group holds the kind's rows per batch, or fewer when their JSON reaches this
# size first (rows that hold whole trajectories, or long pages), so that a batch stays small.
BATCH_BYTES = 8 << 20
# The JSON reader's blocks; a block holds at least the longest row.
READ_BLOCK_BYTES = 1 << 20


class JsonlWriter:
    extension = "jsonl"

    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int):
        self.path = path
        self.file = open(path, "wb", buffering=1 << 20)  # noqa: SIM115  (closed in close())
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        # orjson: compact UTF-8 JSON with sorted keys, several times faster than json (step rows
        # are many, each with its prompt).
        self.file.write(orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE))
        self.rows += 1

    def close(self) -> None:
        self.file.close()


class ParquetWriter:
    """Rows are kept as their JSON lines, and each batch becomes a row group through Arrow's JSON
    reader, which builds the schema's columns in C++. Converting the rows' Python objects
    instead (Table.from_pylist) took two to four times as long and imported pandas (50 MB) on
    the way. Values convert as JSONL writes them (a NaN float is null in both)."""

    extension = "parquet"

    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int):
        self.path = path
        self.schema = schema
        self.batch_rows = batch_rows
        # No statistics of wall-clock values and no page index: identical input, identical bytes.
        self.writer = pq.ParquetWriter(path, schema, compression="zstd", write_page_index=False)
        self.parse_options = pa_json.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"
        )
        self.rows = 0
        self._start_batch()

    def _start_batch(self) -> None:
        self.batch = bytearray()
        self.batch_count = 0
        self.longest = 0

    def write(self, row: dict[str, Any]) -> None:
        line = orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
        self.batch += line
        self.longest = max(self.longest, len(line))
        self.batch_count += 1
        self.rows += 1
        if self.batch_count == self.batch_rows or len(self.batch) >= BATCH_BYTES:
            self._write_batch()

    def _write_batch(self) -> None:
        # One thread: the reader's threads kept memory of their own (8 MB more at the peak).
        read_options = pa_json.ReadOptions(
            use_threads=False, block_size=max(READ_BLOCK_BYTES, self.longest + 1)
        )
        table = pa_json.read_json(
            pa.BufferReader(pa.py_buffer(self.batch)),
            read_options=read_options,
            parse_options=self.parse_options,
        )
        self._start_batch()
        self.writer.write_table(table)

    def close(self) -> None:
        if self.batch_count:
            self._write_batch()
        elif not self.rows:
            # No rows: one empty row group, as writing an empty batch gives.
            self.writer.write_table(self.schema.empty_table())
        self.writer.close()


WRITERS = {"jsonl": JsonlWriter, "parquet": ParquetWriter}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
