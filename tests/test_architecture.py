"""The package's shape: no import cycles, no function over 80 lines (measured by
scripts/code_metrics.py, the same numbers the README's architecture notes quote)."""

import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "theoremllama"
MAX_FUNCTION_LINES = 80


def _metrics():
    spec = importlib.util.spec_from_file_location("code_metrics", ROOT / "scripts" / "code_metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_cycles():
    m = _metrics()
    assert m.cycles(m.graph(PACKAGE)) == []


def test_no_function_over_80_lines():
    long = [(n, where) for n, where in _metrics().function_lengths(PACKAGE) if n > MAX_FUNCTION_LINES]
    assert long == [], "split these into named pieces"


def test_the_checks_see_a_cycle_and_a_long_function(tmp_path):
    """The two checks above can fail: a copy of a package with a cycle and a long function added."""
    m = _metrics()
    copy = tmp_path / "theoremllama"
    shutil.copytree(PACKAGE / "data", copy / "data")
    (copy / "__init__.py").write_text("")
    assert m.cycles(m.graph(copy)) == []
    jsonl = copy / "data" / "jsonl.py"
    jsonl.write_text(jsonl.read_text() + "\nfrom theoremllama.data.formats import read_records  # noqa\n")
    assert m.cycles(m.graph(copy)) == [["theoremllama.data.formats", "theoremllama.data.jsonl"]]
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (copy / "long.py").write_text(f"def long():\n{body}")
    assert max(m.function_lengths(copy))[0] == MAX_FUNCTION_LINES + 1
