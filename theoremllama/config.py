"""YAML configs with command-line overrides, the same for every stage.

    data = read_yaml_mapping("eval/minif2f.yaml")
    apply_overrides(data, ["llm.base_url=http://gpu:8000/v1", "samples=32"])

Values given on the command line are parsed as YAML (`true`, `1e-5`, `[a, b]`), and dotted keys
reach into nested mappings, creating them as needed. Each stage then checks the keys itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from theoremllama.errors import UserError


def read_yaml_mapping(path: str | Path) -> dict:
    """The top-level mapping of a YAML file (an empty file is an empty mapping)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a YAML config file") from None
    except yaml.YAMLError as e:
        raise UserError(f"{path}: invalid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of config keys, got {type(data).__name__}")
    return data


def parse_override(item: str) -> tuple[str, Any]:
    """`a.b=VALUE` -> ("a.b", VALUE parsed as YAML; empty -> None)."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UserError(f"--set {item!r}: expected KEY=VALUE")
    try:
        return key, (yaml.safe_load(raw) if raw.strip() else None)
    except yaml.YAMLError as e:
        raise UserError(f"--set {item!r}: invalid YAML value: {e}") from None


def apply_overrides(data: dict, overrides: Iterable[str] | Mapping[str, Any] = ()) -> dict:
    """Set dotted keys in `data` (in place, also returned): `KEY=VALUE` strings or a mapping."""
    items = overrides.items() if isinstance(overrides, Mapping) else (parse_override(o) for o in overrides)
    for dotted, value in items:
        node = data
        *parents, last = dotted.split(".")
        for p in parents:
            if node.get(p) is None:
                node[p] = {}
            node = node[p]
            if not isinstance(node, dict):
                raise UserError(f"--set {dotted}: config key '{p}' is not a mapping")
        node[last] = value
    return data
