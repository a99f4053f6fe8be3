"""Record files in every format: JSON arrays (errors at the record's line), JSON Lines named .json."""

import json

import pytest

from theoremllama.data.formats import read_records
from theoremllama.data.records import OBTRecord
from theoremllama.errors import InputError, UserError

OBT_ROW = {"Name": "t", "Statement": "theorem t : True :=", "Proof": "theorem t : True := trivial",
           "Generated_informal_statement_and_proof": "", "Commented_proof": "", "File_path": "", "Commit": ""}


def test_read_records_json_array_jsonl_named_json_and_obt_without_idx(tmp_path):
    arr = tmp_path / "obt.json"
    rows = [dict(OBT_ROW, Name=f"t{i}") for i in range(3)]
    arr.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    recs = read_records(arr, OBTRecord)
    assert [(r.idx, r.Name) for r in recs] == [(0, "t0"), (1, "t1"), (2, "t2")]  # idx from the row
    lines = tmp_path / "obt_lines.json"
    lines.write_text("\n".join(json.dumps(dict(r, idx=10 + i)) for i, r in enumerate(rows)) + "\n")
    assert [r.idx for r in read_records(lines, OBTRecord)] == [10, 11, 12]  # given idx kept
    # A bad record inside an array: the error names the line where that record starts.
    rows[2]["Proof"] = None
    arr.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_records(arr, OBTRecord)
    starts = [i + 1 for i, line in enumerate(arr.read_text().split("\n")) if line == "  {"]
    assert e.value.field == "Proof" and e.value.line == starts[2] and starts[2] > 10
    with pytest.raises(UserError, match="unknown format"):
        read_records(tmp_path / "x.csv" if (tmp_path / "x.csv").write_text("a") else None, OBTRecord)
    with pytest.raises(UserError, match="no such file"):
        read_records(tmp_path / "missing.jsonl", OBTRecord)
