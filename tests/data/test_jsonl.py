"""JSON Lines I/O: precise errors, truncated tails, resumable appends, atomic writes."""

import json
import os
import signal
import subprocess
import time

import pytest

from theoremllama.data.jsonl import (
    JsonlWriter, atomic_open, atomic_write_json, atomic_write_jsonl, atomic_write_text, read_jsonl, trim_jsonl,
)
from theoremllama.data.records import OBTRecord, TheoremRecord
from theoremllama.errors import InputError


def test_roundtrip_records_and_dicts(tmp_path):
    path = tmp_path / "t.jsonl"
    recs = [TheoremRecord(name=f"n{i}", statement="theorem n : ℕ :=", proof="theorem n : ℕ := 1",
                          opens=["open Nat"]) for i in range(3)]
    assert atomic_write_jsonl(path, recs) == 3
    assert list(read_jsonl(path, TheoremRecord)) == recs
    assert [d["name"] for d in read_jsonl(path)] == ["n0", "n1", "n2"]
    assert "ℕ" in path.read_text(encoding="utf-8")  # unicode kept readable, not \\u-escaped


def test_blank_lines_skipped_and_errors_name_file_line_field(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"name": "a", "statement": "s", "proof": "p"}) + "\n\n"
                    + json.dumps({"name": "b", "statement": 3, "proof": "p"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        list(read_jsonl(path, TheoremRecord))
    assert (e.value.path, e.value.line, e.value.field) == (str(path), 3, "statement")
    assert str(e.value) == f"{path}:3: field 'statement': expected a string, got int"

    path.write_text('{"name": "a"}\n{"name": oops}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"x.jsonl:2: invalid JSON"):
        list(read_jsonl(path))
    path.write_text('{"name": "a"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="x.jsonl:1: field 'statement': missing required field"):
        list(read_jsonl(path, TheoremRecord))
    path.write_text('[1, 2]\n', encoding="utf-8")
    with pytest.raises(InputError, match="x.jsonl:1: expected a JSON object"):
        list(read_jsonl(path))


def test_truncated_last_line_is_reported_or_skipped(tmp_path):
    path = tmp_path / "killed.jsonl"
    path.write_text('{"name": "a"}\n{"name": "b"}\n{"name": "c", "sta', encoding="utf-8")
    with pytest.raises(InputError, match=r"killed.jsonl:3: the last line is truncated") as e:
        list(read_jsonl(path))
    assert "tolerate_truncated_tail=True" in str(e.value)
    with pytest.warns(UserWarning, match="truncated"):
        assert [d["name"] for d in read_jsonl(path, tolerate_truncated_tail=True)] == ["a", "b"]
    # A complete last record that only lacks its newline is not truncated.
    path.write_text('{"name": "a"}\n{"name": "b"}', encoding="utf-8")
    assert [d["name"] for d in read_jsonl(path)] == ["a", "b"]


def test_writer_resume_repairs_tail_and_reports_done_keys(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text('{"name": "a", "v": 1}\n{"name": "b", "v": 2}\n{"name": "c", "v"', encoding="utf-8")
    with pytest.warns(UserWarning, match="removed a truncated last line"):
        w = JsonlWriter(path, key=lambda d: d["name"])
    with w:
        assert w.done_keys() == {"a", "b"}
        for name in ["a", "b", "c", "d"]:
            if name not in w.done_keys():
                w.write({"name": name, "v": 0})
        assert w.done_keys() == {"a", "b", "c", "d"}
    assert [d["name"] for d in read_jsonl(path)] == ["a", "b", "c", "d"]
    # A tail that is complete JSON is kept and gets its newline.
    path.write_text('{"name": "a"}', encoding="utf-8")
    with JsonlWriter(path) as w:
        w.write(OBTRecord(idx=1, Name="x", Statement="s", Proof="p"))
    assert [d.get("name", d.get("Name")) for d in read_jsonl(path)] == ["a", "x"]
    with pytest.raises(ValueError, match="key="):
        JsonlWriter(path).done_keys()


WRITER_SCRIPT = """
import sys, time
from theoremllama.data.jsonl import JsonlWriter
with JsonlWriter(sys.argv[1], key=lambda d: d["i"]) as w:
    done = w.done_keys()
    for i in range(200):
        if i not in done:
            w.write({"i": i, "pad": "x" * 200})
            time.sleep(0.005)
"""


@pytest.mark.slow
def test_a_killed_writer_loses_nothing_when_resumed(tmp_path, python):
    """Kills a real writer process with SIGKILL mid-run, then resumes it: every record exactly once."""
    path = tmp_path / "out.jsonl"
    proc = subprocess.Popen([python, "-c", WRITER_SCRIPT, str(path)])
    deadline = time.time() + 20
    while time.time() < deadline and (not path.exists() or path.read_text().count("\n") < 20):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = path.read_text().count("\n")
    assert 20 <= written < 200
    subprocess.run([python, "-c", WRITER_SCRIPT, str(path)], check=True, timeout=60)
    assert [d["i"] for d in read_jsonl(path)] == list(range(200))


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "final.jsonl"
    atomic_write_text(path, "old\n")

    def records():
        yield {"a": 1}
        raise RuntimeError("generator died")

    with pytest.raises(RuntimeError):
        atomic_write_jsonl(path, records())
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["final.jsonl"]  # no temporary file left behind


def test_trim_jsonl_keeps_what_the_predicate_accepts_and_drops_a_torn_tail(tmp_path):
    path = tmp_path / "order.jsonl"
    path.write_text("".join(json.dumps({"step": s}) + "\n" for s in (1, 2, 3)) + '{"step": 4', encoding="utf-8")
    with pytest.warns(UserWarning, match="truncated last line"):
        trim_jsonl(path, lambda d: d["step"] <= 2)
    assert [json.loads(line) for line in path.read_text().splitlines()] == [{"step": 1}, {"step": 2}]
    assert os.listdir(tmp_path) == ["order.jsonl"]  # rewritten in place, no temporary file left
    trim_jsonl(tmp_path / "missing.jsonl", lambda d: True)  # nothing to trim: no file made
    assert not (tmp_path / "missing.jsonl").exists()


def test_atomic_open_binary_and_json(tmp_path):
    with atomic_open(tmp_path / "blob.bin", "wb") as f:
        f.write(b"\x00\xff")
    assert (tmp_path / "blob.bin").read_bytes() == b"\x00\xff"
    atomic_write_json(tmp_path / "info.json", {"ℕ": 1})
    assert json.loads((tmp_path / "info.json").read_text(encoding="utf-8")) == {"ℕ": 1}
    with pytest.raises(ValueError):
        with atomic_open(tmp_path / "x", "a"):
            pass
    assert sorted(os.listdir(tmp_path)) == ["blob.bin", "info.json"]
