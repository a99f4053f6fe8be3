"""Decoding input with errors that name the place: UTF-8 text, and parsed JSON values as records.

Every reader of the data layer (`jsonl`, `formats`, `hf`) goes through these, so a bad byte or a
bad field is reported the same way whatever the file format: file, 1-based line (or row), field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from theoremllama.data.records import OBTRecord
from theoremllama.errors import InputError, UserError


def _from_dict(record_type: type, d: Any, row: int):
    """`record_type.from_dict(d)`; OBT rows without `idx` get their 0-based row number."""
    if isinstance(record_type, type) and issubclass(record_type, OBTRecord):
        return record_type.from_dict(d, idx=row)
    return record_type.from_dict(d)


def record_from_json(record_type, d: Any, row: int, path: str, line: int | None):
    """One parsed JSON value as a dict (`record_type` None) or a `record_type`, adding the file and
    line to any validation error."""
    if record_type is None:
        if not isinstance(d, dict):
            raise InputError(f"expected a JSON object, got {type(d).__name__}", path=path, line=line)
        return d
    try:
        return _from_dict(record_type, d, row)
    except InputError as e:
        raise InputError(e.reason, path=path, line=line, field=e.field) from None
    except TypeError as e:  # e.g. a field the record does not have reached its constructor
        raise InputError(f"not a valid {record_type.__name__}: {e}", path=path, line=line) from None


def not_utf8(e: UnicodeDecodeError) -> str:
    return (f"not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}): "
            "a binary or differently encoded file?")


def read_text(path: str | Path) -> str:
    """A whole text file as UTF-8; a file that is not (a binary file, another encoding) raises an
    `InputError` naming the line of the first bad byte, a missing file or a directory a `UserError`."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a file") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(not_utf8(e), path=str(path), line=data.count(b"\n", 0, e.start) + 1) from None
