"""mathlab.training: the one stage lifecycle (key, reuse, resume, atomic save, old records)."""

from __future__ import annotations

import json

import pytest

from mathlab.runs import stable_hash
from mathlab.training import (
    CHECKPOINT_KEY,
    STAGE_FILE,
    Stage,
    last_loss,
    read_stage,
    stage_key,
    stage_model_key,
)


def _model(folder):
    (folder / "config.json").write_text("{}")


def test_stage_key_is_the_stable_hash_of_the_inputs():
    inputs = {"model": "tiny-random", "params": {"lr": 1e-3}, "seed": 0}
    assert stage_key(inputs) == stable_hash(inputs) == stage_key(dict(reversed(inputs.items())))
    assert stage_key({**inputs, "seed": 1}) != stage_key(inputs)


def test_save_then_finished_reuses_only_the_same_key(tmp_path):
    stage = Stage(tmp_path / "m", stage_key({"a": 1}))
    assert stage.finished() is None
    record = stage.save(_model, {"history": [{"step": 1, "loss": 2.0}]})
    assert record["key"] == stage.key
    assert json.loads((tmp_path / "m" / STAGE_FILE).read_text()) == record
    assert stage.finished() == record
    assert Stage(tmp_path / "m", stage_key({"a": 2})).finished() is None
    (tmp_path / "m" / "config.json").unlink()  # the record survived, the model did not
    assert stage.finished() is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary folder left


def test_save_replaces_the_folder_atomically(tmp_path):
    folder = tmp_path / "m"
    first = Stage(folder, "k1")
    first.save(_model, {})
    (folder / "stale.bin").write_text("old weights")
    first.checkpoints.mkdir()

    def fails(tmp):
        raise RuntimeError("killed while saving")

    second = Stage(folder, "k2")
    with pytest.raises(RuntimeError):
        second.save(fails, {})
    assert first.finished() is not None  # a failed save leaves the old stage untouched
    second.save(_model, {})
    assert second.finished() is not None and first.finished() is None
    assert not (folder / "stale.bin").exists() and not first.checkpoints.exists()


def test_begin_drops_other_records_and_resumes_only_the_same_key(tmp_path, capsys):
    folder = tmp_path / "m"
    Stage(folder, "old").save(_model, {})
    stage = Stage(folder, "new", label="sft")
    assert stage.begin() is None  # nothing to resume yet
    assert not (folder / STAGE_FILE).exists()
    assert "holds a model trained with other data or parameters" in capsys.readouterr().out
    assert json.loads((stage.checkpoints / CHECKPOINT_KEY).read_text()) == {"key": "new"}
    (stage.checkpoints / "checkpoint-2").mkdir()
    (stage.checkpoints / "checkpoint-10").mkdir()
    assert stage.begin() == str(stage.checkpoints / "checkpoint-10")  # the last one
    other = Stage(folder, "other")
    assert other.begin() is None and not (other.checkpoints / "checkpoint-10").exists()
    assert "removing checkpoints of another configuration" in capsys.readouterr().out
    (other.checkpoints / "checkpoint-1").mkdir()
    assert other.begin(force=True) is None and not (other.checkpoints / "checkpoint-1").exists()
    assert Stage(tmp_path / "n", "k").begin(checkpoints=False) is None
    assert not (tmp_path / "n").exists()  # no checkpoints asked for: nothing made


def test_old_record_names_and_forms_are_read(tmp_path):
    # 02_sft / 03_rft before: the same record as mathlab_stage.json
    sft = tmp_path / "sft"
    sft.mkdir()
    _model(sft)
    (sft / "mathlab_stage.json").write_text(json.dumps({"key": "abc", "steps": 3}))
    assert Stage(sft, "abc").finished() == {"key": "abc", "steps": 3}
    assert stage_model_key(str(sft)) == "abc"
    # 06_rfft before: stage.json with the hash under "hash" and [step, loss] pairs
    rfft = tmp_path / "rfft"
    rfft.mkdir()
    _model(rfft)
    old = {"hash": "h1", "key": {"setting": "x"}, "train": {"losses": [[1, 2.5], [50, 0.5]]}}
    (rfft / STAGE_FILE).write_text(json.dumps(old))
    record = read_stage(rfft)
    assert record["key"] == "h1" and record["inputs"] == {"setting": "x"}
    assert record["train"]["history"] == [{"step": 1, "loss": 2.5}, {"step": 50, "loss": 0.5}]
    assert Stage(rfft, "h1").finished() == record and last_loss(record["train"]["history"]) == 0.5
    # unreadable or missing records: not a finished stage
    (rfft / STAGE_FILE).write_text("{not json")
    assert read_stage(rfft) is None and read_stage(tmp_path / "none") is None
    assert stage_model_key("smollm2-135m-instruct") == "smollm2-135m-instruct"
    assert last_loss([]) is None
