"""JSON Lines files: reading with precise errors, writing that survives being killed.

Every long job in theoremllama appends one line per finished record through `JsonlWriter`, so a
killed job loses at most the line it was writing. That line is then a *truncated tail*: the file
does not end with a newline and its last line is not valid JSON. Readers report it clearly
(`read_jsonl(..., tolerate_truncated_tail=True)` skips it) and a writer reopening the file cuts it
off before appending, so a resumed job redoes exactly that one record.

Final outputs (not appended to) are written with `atomic_write_text` / `atomic_write_jsonl`: a
temporary file in the same directory, fsync'd, then `os.replace`d over the target, so a reader
sees either the old file or the new one, never half of it.

Other record formats (JSON arrays, Parquet, HF dataset directories) are read by
`theoremllama.data.formats`.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Iterator

from theoremllama.data.decode import not_utf8, record_from_json
from theoremllama.errors import InputError, UserError


def read_jsonl(path: str | Path, record_type: type | None = None, *,
               tolerate_truncated_tail: bool = False) -> Iterator:
    """Yield each line of a JSON Lines file as a dict, or as `record_type.from_dict(d)`.

    Blank lines are skipped. Bad JSON or a bad field raises `InputError` naming the file, the
    1-based line and the field. A last line that is cut short (no final newline and not valid
    JSON: a job killed mid-write) raises an `InputError` that says so, or is skipped with a
    warning when `tolerate_truncated_tail` is true."""
    for row, (d, lineno) in enumerate(iter_jsonl_lines(path, tolerate_truncated_tail=tolerate_truncated_tail)):
        yield record_from_json(record_type, d, row, str(path), lineno)


def iter_jsonl_lines(path: str | Path, *, tolerate_truncated_tail: bool = False) -> Iterator[tuple[Any, int]]:
    """Yield (parsed JSON value, 1-based line number) for each non-blank line (see `read_jsonl`)."""
    path = str(path)
    try:
        f = open(path, "rb")  # decoded line by line, so a bad byte is reported with its line
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a .jsonl file") from None
    with f:
        for lineno, raw_bytes in enumerate(f, start=1):
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(not_utf8(e), path=path, line=lineno) from None
            if lineno == 1:
                raw = raw.lstrip("\ufeff")  # a byte-order mark some editors write
            if not raw.strip():
                continue
            try:
                d = json.loads(raw)
            except json.JSONDecodeError as e:
                if not raw.endswith("\n"):  # only the last line can lack its newline
                    msg = ("the last line is truncated (the file does not end with a newline: a job "
                           "was probably killed while writing it); rerun the job to redo that record, "
                           "or read with tolerate_truncated_tail=True to skip it")
                    if tolerate_truncated_tail:
                        warnings.warn(f"{path}:{lineno}: skipping a truncated last line", stacklevel=3)
                        return
                    raise InputError(msg, path=path, line=lineno) from None
                raise InputError(f"invalid JSON ({e.msg} at column {e.colno})", path=path, line=lineno) from None
            yield d, lineno


def _to_dict(record: Any) -> dict:
    if isinstance(record, dict):
        return record
    to_dict = getattr(record, "to_dict", None)
    if to_dict is None:
        raise TypeError(f"cannot write a {type(record).__name__}: expected a dict or a record with .to_dict()")
    return to_dict()


def _dumps(record: Any) -> str:
    return json.dumps(_to_dict(record), ensure_ascii=False) + "\n"


def repair_truncated_tail(path: str | Path) -> str | None:
    """If the file's last line is unterminated, finish it (valid JSON) or cut it off (not).

    Returns the text that was cut off, or None if nothing was cut."""
    path = str(path)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return None
        # Find the start of the last line without reading the whole file.
        size = f.seek(0, os.SEEK_END)
        pos, block, tail = size, 1 << 16, b""
        while pos > 0:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            tail = f.read(step) + tail
            nl = tail.rfind(b"\n")
            if nl >= 0:
                pos += nl + 1
                tail = tail[nl + 1:]
                break
        try:
            json.loads(tail.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            f.truncate(pos)
            return tail.decode("utf-8", errors="replace")
        f.seek(0, os.SEEK_END)
        f.write(b"\n")  # a complete record that only lacked its newline
        return None


class JsonlWriter:
    """Append-only JSON Lines output: one line per record, flushed at once, fsync'd on close.

    With `key` (a function of the record's dict), `done_keys()` tells a resumed job which
    records are already in the file, so it can skip them:

        with JsonlWriter(out, key=lambda d: d["name"]) as w:
            done = w.done_keys()
            for r in records:
                if r.name not in done:
                    w.write(process(r))

    Opening the writer repairs a truncated last line left by a killed job (see
    `repair_truncated_tail`), so appended lines never glue onto a half-written one."""

    def __init__(self, path: str | Path, *, key: Callable[[dict], Hashable] | None = None):
        self.path = Path(path)
        self.key = key
        self.path.parent.mkdir(parents=True, exist_ok=True)
        cut = repair_truncated_tail(self.path)
        if cut is not None:
            warnings.warn(f"{self.path}: removed a truncated last line ({len(cut)} characters) left by "
                          "an interrupted run; that record will be redone", stacklevel=2)
        self._keys: set | None = None
        self._file = open(self.path, "a", encoding="utf-8")

    def done_keys(self) -> set:
        """The keys of the records already in the file (read once, then kept up to date)."""
        if self.key is None:
            raise ValueError("JsonlWriter.done_keys() needs the writer to be created with key=...")
        if self._keys is None:
            self._file.flush()
            keys = set()
            for d in read_jsonl(self.path, tolerate_truncated_tail=True):
                try:
                    keys.add(self.key(d))
                except (KeyError, TypeError) as e:
                    raise InputError(f"a record has no resume key ({e!r}); is this the output of "
                                     "another job?", path=str(self.path)) from None
            self._keys = keys
        return self._keys

    def write(self, record: Any) -> None:
        """Append one record (a dict or anything with `.to_dict()`) and flush it to the OS."""
        line = _dumps(record)
        self._file.write(line)
        self._file.flush()
        if self._keys is not None and self.key is not None:
            self._keys.add(self.key(_to_dict(record)))

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w"):
    """A file (text `w` or binary `wb`) that appears at `path` whole or not at all: written to a
    temp file beside it, fsync'd, then renamed over `path` (`os.replace` is atomic on POSIX)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a new file: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        with open(tmp, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a whole file atomically (see `atomic_open`)."""
    with atomic_open(path) as f:
        f.write(text)


def atomic_write_jsonl(path: str | Path, records: Iterable[Any]) -> int:
    """Write records as JSON Lines atomically (streamed to the temp file); returns the count."""
    n = 0
    with atomic_open(path) as f:
        for r in records:
            f.write(_dumps(r))
            n += 1
    return n


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write one JSON document (indented, UTF-8 kept readable) atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False))


def trim_jsonl(path: str | Path, keep: Callable[[dict], bool]) -> None:
    """Rewrite a JSON Lines file atomically with only the records `keep` accepts; a torn last line
    (a writer killed mid-line) goes too. Used on resume to drop what a checkpoint does not cover."""
    if not Path(path).exists():
        return
    atomic_write_jsonl(path, [d for d in read_jsonl(path, tolerate_truncated_tail=True) if keep(d)])
