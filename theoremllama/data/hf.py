"""Records as Hugging Face `datasets`: what trainers load and what the Hub publishes.

A saved dataset directory holds `datasets`' own `save_to_disk` layout (memory-mapped Arrow,
loadable with `datasets.load_from_disk`) and, by default, a `data.parquet` copy beside it
(what the Hub and pandas read). Saving is atomic: everything is written to a temporary
directory next to the target, which is then renamed into place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterable

from theoremllama.data.decode import record_from_json
from theoremllama.errors import InputError, UserError

PARQUET_NAME = "data.parquet"


def _rows(records: Iterable[Any]) -> list[dict]:
    return [r if isinstance(r, dict) else r.to_dict() for r in records]


def to_hf_dataset(records: Iterable[Any]):
    """A `datasets.Dataset` with one row per record (dicts or records with `.to_dict()`)."""
    import datasets

    return datasets.Dataset.from_list(_rows(records))


def from_hf_dataset(ds, record_type: type | None = None, *, source: str = "dataset") -> list:
    """Rows of a `datasets.Dataset` as dicts, or as `record_type` objects.

    A bad row raises `InputError` naming `source`, the 1-based row (as `line`) and the field.
    OBT rows without an `idx` column get their 0-based row number."""
    return [record_from_json(record_type, dict(row), i, source, i + 1) for i, row in enumerate(ds)]


def save_dataset(records: Iterable[Any], out_dir: str | Path, *, parquet: bool = True):
    """Save records with `Dataset.save_to_disk` (plus `data.parquet`), atomically.

    Returns the `datasets.Dataset` that was saved. An existing `out_dir` is replaced only once
    the new one is complete."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: exists and is not a directory")
    ds = to_hf_dataset(records)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        ds.save_to_disk(str(tmp))
        if parquet:
            ds.to_parquet(str(tmp / PARQUET_NAME))
        if out_dir.exists():
            os.replace(out_dir, old)  # a directory cannot be replaced in one step when non-empty
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return ds


def _open_dataset(path: Path):
    import datasets

    if path.is_file():
        if path.suffix != ".parquet":
            raise UserError(f"{path}: expected a .parquet file or a saved dataset directory")
        return datasets.Dataset.from_parquet(str(path))
    if (path / "dataset_dict.json").exists():
        dd = datasets.load_from_disk(str(path))
        if len(dd) != 1:
            raise UserError(f"{path}: a DatasetDict with splits {sorted(dd)}; pass one split's directory "
                            f"(e.g. {path / sorted(dd)[0]})")
        return next(iter(dd.values()))
    if (path / "state.json").exists() or (path / "dataset_info.json").exists():
        return datasets.load_from_disk(str(path))
    parquets = sorted(path.glob("*.parquet")) or sorted(path.glob("data/*.parquet"))
    if parquets:
        return datasets.Dataset.from_parquet([str(p) for p in parquets])
    raise UserError(f"{path}: not a saved HF dataset (no state.json / dataset_dict.json) and no .parquet files")


def load_dataset_dir(path: str | Path, record_type: type | None = None) -> list:
    """Load a directory written by `save_dataset` / `Dataset.save_to_disk`, a directory of
    parquet files (as downloaded from the Hub) or a single `.parquet` file."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    try:
        ds = _open_dataset(path)
    except (UserError, InputError):
        raise
    except Exception as e:  # datasets/pyarrow errors on corrupt files: say which file
        raise UserError(f"{path}: could not load as a dataset: {type(e).__name__}: {e}") from None
    return from_hf_dataset(ds, record_type, source=str(path))
