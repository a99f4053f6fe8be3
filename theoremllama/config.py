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

from theoremllama.data.decode import read_text
from theoremllama.errors import UserError


def read_yaml_mapping(path: str | Path) -> dict:
    """The top-level mapping of a YAML file (an empty file is an empty mapping)."""
    if not Path(path).exists():
        raise UserError(f"{path}: no such config file")
    if Path(path).is_dir():
        raise UserError(f"{path}: is a directory, expected a YAML config file")
    try:
        data = yaml.safe_load(read_text(path))
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


def check_model_source(value: str, key: str) -> str:
    """Refuse at once a local model/tokenizer path that does not exist.

    `from_pretrained` reads a string that is not an existing directory as a hub id and spends a
    minute retrying the hub before failing with a hub error; a mistyped local path deserves one
    line now. A value counts as a local path when it starts with `/`, `.` or `~`, has more than
    one `/` (hub ids are `org/name`), or its first part is an existing directory."""
    import os

    if not isinstance(value, str) or not value or os.path.exists(os.path.expanduser(value)):
        return value
    first = value.split("/", 1)[0]
    local = value.startswith(("/", ".", "~")) or value.count("/") > 1 or ("/" in value and os.path.isdir(first))
    if local:
        raise UserError(f"{key}: {value}: no such directory (a local model or tokenizer path; "
                        "a hub id has the form org/name)")
    return value


def hint_with_config_key(error: Exception, flags: dict[str, str]) -> Exception:
    """The same error, its hints naming this command's config keys instead of another command's
    flags: the Lean harness says `--repl-cmd CMD` (a `verify` flag); in `eval` that is
    `--set verifier.repl_cmd=CMD`."""
    message = str(error)
    for flag, key in flags.items():
        message = message.replace(f"{flag} CMD", f"--set {key}=CMD").replace(flag, f"{key} (--set {key}=...)")
    return type(error)(message) if type(error) is UserError else UserError(message)


_EXPECTED = {bool: "true or false", int: "an integer", float: "a number", str: "a string", dict: "a mapping",
             list: "a list"}


def build_config(cls, values: Any, where: str = ""):
    """Dataclass `cls` from a config mapping (nested dataclass fields from nested mappings); an
    unknown key, a missing required key or a value of the wrong type is one line naming the key."""
    import dataclasses
    import types
    import typing

    if not isinstance(values, dict):
        raise UserError(f"config key '{where or 'top level'}': expected a mapping, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    prefix = f"{where}." if where else ""
    unknown = [k for k in values if k not in fields]
    if unknown:
        raise UserError(f"unknown config key '{prefix}{unknown[0]}' (known: {', '.join(fields)})")
    out = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in values:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise UserError(f"config key '{key}' is required")
            continue
        value, hint = values[name], hints[name]
        optional = type(None) in typing.get_args(hint)
        kinds = [k for k in typing.get_args(hint) or (hint,) if k is not type(None)]
        if typing.get_origin(hint) not in (typing.Union, types.UnionType):
            kinds = [hint]  # dict[str, Any], list[str]: the container is the kind
        kind = typing.get_origin(kinds[0]) or kinds[0]
        if value is None and optional:
            out[name] = None
        elif dataclasses.is_dataclass(kind):
            out[name] = build_config(kind, value, key)
        elif kind is Any:
            out[name] = value
        else:
            if kind is float and isinstance(value, str):  # YAML 1.1 reads 1e-5 as a string
                try:
                    value = float(value)
                except ValueError:
                    pass
            ok = (isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)) or \
                 (kind is float and isinstance(value, int) and not isinstance(value, bool))
            if not ok:
                raise UserError(f"config key '{key}': expected {_EXPECTED.get(kind, kind.__name__)}, got {value!r}")
            out[name] = value
    return cls(**out)
