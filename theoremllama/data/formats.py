"""Record files in any format the project reads: JSON Lines, JSON arrays, Parquet files and saved
Hugging Face dataset directories, behind one `read_records`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from theoremllama.data.decode import read_text, record_from_json
from theoremllama.data.hf import load_dataset_dir
from theoremllama.data.jsonl import read_jsonl
from theoremllama.errors import InputError, UserError


def iter_json_array(path: str) -> Iterator[tuple[Any, int]]:
    """Yield (element, 1-based line where it starts) of a JSON array file (for error messages)."""
    text = read_text(path)
    decoder = json.JSONDecoder()
    ws = " \t\r\n"
    i = 0
    n = len(text)

    def skip(i: int) -> int:
        while i < n and text[i] in ws:
            i += 1
        return i

    def line_of(i: int) -> int:
        return text.count("\n", 0, i) + 1

    i = skip(i)
    if i < n and text[i] == "\ufeff":  # a byte-order mark some editors write
        i = skip(i + 1)
    if i >= n or text[i] != "[":
        raise InputError("expected a JSON array of records ('[' ...)", path=path, line=line_of(i))
    i = skip(i + 1)
    if i < n and text[i] == "]":
        return
    line, last = 1, 0
    while True:
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as e:
            raise InputError(f"invalid JSON ({e.msg})", path=path, line=e.lineno) from None
        line += text.count("\n", last, i)  # incremental: the file is walked once
        last = i
        yield value, line
        i = skip(end)
        if i < n and text[i] == ",":
            i = skip(i + 1)
        elif i < n and text[i] == "]":
            return
        else:
            raise InputError("expected ',' or ']' after a record", path=path, line=line_of(i))


def read_json_array(path: str | Path, record_type: type | None = None) -> list:
    """A JSON file holding an array of records; errors name the line where the record starts."""
    path = str(path)
    return [record_from_json(record_type, d, row, path, line) for row, (d, line) in enumerate(iter_json_array(path))]


def read_records(path: str | Path, record_type: type | None = None) -> list:
    """Load records from a `.jsonl` file, a `.json` array (or JSON Lines saved as `.json`), a
    saved HF dataset directory or a `.parquet` file (see `theoremllama.data.hf`)."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: no such file or directory")
    if p.is_dir() or p.suffix == ".parquet":
        return load_dataset_dir(p, record_type)
    if p.suffix == ".json":
        with open(p, encoding="utf-8", errors="replace") as f:  # a sniff; the readers check the encoding
            head = f.read(4096).lstrip("\ufeff \t\r\n")
        if head.startswith("["):
            return read_json_array(p, record_type)
        return list(read_jsonl(p, record_type))  # some published dumps are JSON Lines named .json
    if p.suffix in (".jsonl", ".ndjson") or p.name.endswith(".jsonl.tmp"):
        return list(read_jsonl(p, record_type))
    raise UserError(f"{p}: unknown format (expected .jsonl, .json, .parquet or a saved HF dataset directory)")
