"""Records as real Hugging Face `datasets` (no mocks): save/load, parquet, the published OBT layout."""

import datasets
import pytest

from theoremllama.data.hf import from_hf_dataset, load_dataset_dir, save_dataset, to_hf_dataset
from theoremllama.data.formats import read_records
from theoremllama.data.records import OBT_COLUMNS, OBTRecord, TheoremRecord
from theoremllama.errors import InputError, UserError


def obt(i):
    return OBTRecord(idx=i, Name=f"Nat.t{i}", Statement=f"theorem t{i} : {i} = {i} :=",
                     Proof=f"theorem t{i} : {i} = {i} := rfl", Commented_proof=f"theorem t{i} : {i} = {i} := by\n  -- ℕ\n  rfl")


def test_obt_roundtrip_through_disk_and_parquet(tmp_path):
    recs = [obt(i) for i in range(5)]
    out = tmp_path / "obt"
    ds = save_dataset(recs, out)
    assert ds.column_names == list(OBT_COLUMNS)
    assert load_dataset_dir(out, OBTRecord) == recs
    assert (out / "data.parquet").exists()
    assert load_dataset_dir(out / "data.parquet", OBTRecord) == recs
    # What a trainer does: plain `datasets` loads it.
    assert datasets.load_from_disk(str(out))["Name"] == [r.Name for r in recs]
    assert read_records(out, OBTRecord) == recs


def test_save_replaces_an_existing_dataset_atomically(tmp_path):
    out = tmp_path / "obt"
    save_dataset([obt(0)], out)
    save_dataset([obt(1), obt(2)], out, parquet=False)
    assert [r.idx for r in load_dataset_dir(out, OBTRecord)] == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obt"]  # no temporary or old directories left


def test_theorem_records_with_list_fields(tmp_path):
    recs = [TheoremRecord(name="a", statement="theorem a :=", proof="theorem a := rfl", opens=["open Nat"],
                          variables=["variable (n : ℕ)"], imports=["Mathlib"])]
    save_dataset(recs, tmp_path / "thm")
    assert load_dataset_dir(tmp_path / "thm", TheoremRecord) == recs


def test_published_obt_layout_parquet_shards_without_idx(tmp_path):
    """The Hub layout (`data/train-*.parquet`); a missing `idx` is filled with the row number."""
    rows = [{k: v for k, v in obt(i).to_dict().items() if k != "idx"} for i in range(4)]
    (tmp_path / "data").mkdir()
    datasets.Dataset.from_list(rows[:2]).to_parquet(str(tmp_path / "data" / "train-00000-of-00002.parquet"))
    datasets.Dataset.from_list(rows[2:]).to_parquet(str(tmp_path / "data" / "train-00001-of-00002.parquet"))
    recs = load_dataset_dir(tmp_path, OBTRecord)
    assert [(r.idx, r.Name) for r in recs] == [(i, f"Nat.t{i}") for i in range(4)]


def test_dataset_dict_with_one_split_and_bad_rows(tmp_path):
    dd = datasets.DatasetDict({"train": to_hf_dataset([obt(0), obt(1)])})
    dd.save_to_disk(str(tmp_path / "dd"))
    assert len(load_dataset_dir(tmp_path / "dd", OBTRecord)) == 2
    bad = datasets.Dataset.from_list([{"Name": "a", "Statement": "s", "Proof": "p"}, {"Name": "b", "Statement": "s"}])
    with pytest.raises(InputError) as e:
        from_hf_dataset(bad, OBTRecord, source="mine")
    assert (e.value.path, e.value.line) == ("mine", 2)
    with pytest.raises(UserError, match="not a saved HF dataset"):
        load_dataset_dir(tmp_path, OBTRecord)  # holds only the dd/ directory
