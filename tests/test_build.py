"""build_datasets on the smoke preset: sizes, disjointness, variants, files, card, real sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathlab.config import load_config
from mathlab.data.build import build_datasets
from mathlab.data.card import render_card, write_card
from mathlab.data.generator import program_key
from mathlab.data.records import read_jsonl

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def smoke_cfg():
    return load_config("smoke")


@pytest.fixture(scope="module")
def bundle(smoke_cfg):
    return build_datasets(smoke_cfg.data, smoke_cfg.seed, show_progress=False)


def test_sizes_and_unique_ids(bundle, smoke_cfg):
    d = smoke_cfg.data
    s = bundle.splits
    assert (len(s["train"]), len(s["test"]), len(s["test_heldout"])) == (
        d.n_train,
        d.n_test,
        d.n_test_heldout,
    )
    ids = [p.id for problems in s.values() for p in problems]
    assert len(ids) == len(set(ids))
    assert {p.split for p in s["train"]} == {"train"}
    assert {p.split for k in ("test", "test_heldout") for p in s[k]} == {"test"}


def test_families_and_program_disjointness(bundle, smoke_cfg):
    s = bundle.splits
    held = set(smoke_cfg.data.heldout_families)
    assert held and {p.meta["family"] for p in s["test_heldout"]} == held
    assert not held & {p.meta["family"] for p in s["train"] + s["test"]}
    train_keys = {program_key(p) for p in s["train"]}
    assert len(train_keys) == len(s["train"])  # no program twice in train
    assert not train_keys & {program_key(p) for p in s["test"] + s["test_heldout"]}
    steps = {p.meta["steps"] for p in s["train"]}
    assert steps <= set(range(smoke_cfg.data.min_steps, smoke_cfg.data.max_steps + 1))


def test_robustness_variants(bundle):
    s = bundle.splits
    by_id = {p.id: p for p in s["test"]}
    assert len(s["test_distractor"]) == len(s["test"])
    for v in s["test_distractor"]:
        parent = by_id[v.meta["parent_id"]]
        assert v.answer == parent.answer and v.question != parent.question
        assert v.meta["distractor"] in v.question
    assert s["test_backward"], "no backward variants"
    missing = len(s["test"]) - len(s["test_backward"])
    assert missing == 0 or "test_backward" in bundle.shortfalls
    for v in s["test_backward"]:
        parent = by_id[v.meta["parent_id"]]
        assert "x" in v.question and parent.answer in v.question


def test_deterministic(bundle, smoke_cfg):
    again = build_datasets(smoke_cfg.data, smoke_cfg.seed, show_progress=False)
    for name, problems in bundle.splits.items():
        assert [p.to_dict() for p in again.splits[name]] == [p.to_dict() for p in problems]
    other = build_datasets(smoke_cfg.data, smoke_cfg.seed + 1, show_progress=False)
    assert [p.question for p in other.splits["train"]] != [
        p.question for p in bundle.splits["train"]
    ]


def test_write_files_card_and_details(bundle, tmp_path):
    paths = bundle.write(tmp_path)
    for name, problems in bundle.splits.items():
        assert read_jsonl(paths[name]) == problems  # golds re-validated on read
    datasets = pytest.importorskip("datasets")
    cache = str(tmp_path / "hf")
    for name in ("test_distractor", "test_backward"):  # each file on its own
        ds = datasets.load_dataset(
            "json", data_files=str(paths[name]), split="train", cache_dir=cache
        )
        assert ds.num_rows == len(bundle.splits[name])
        assert ds[0]["meta"]["parent_id"] == bundle.splits[name][0].meta["parent_id"]
    # train and the plain test sets share one meta schema, so they load as one DatasetDict
    files = {k: str(paths[k]) for k in ("train", "test", "test_heldout")}
    ds = datasets.load_dataset("json", data_files=files, cache_dir=cache)
    assert {k: v.num_rows for k, v in ds.items()} == {k: len(bundle.splits[k]) for k in files}
    reports = json.loads(paths["reports"].read_text())
    assert set(reports["dedup"]) == {"train", "test", "test_heldout"}
    card = write_card(bundle, tmp_path / "card.md").read_text()
    for heading in (
        "## Sources",
        "## Problems per family",
        "## Problems per number of steps",
        "## Problems per language",
        "## Cleaning and deduplication",
        "## Contamination",
        "## Examples",
    ):
        assert heading in card
    assert f"| `train` | {len(bundle.splits['train'])} |" in card
    details = bundle.details()
    json.dumps(details)
    assert details["counts"]["test"] == len(bundle.splits["test"])
    assert set(details["dedup_removed"]["train"]) == {"exact", "program", "near"}


def test_real_sets_are_loaded_and_train_is_decontaminated(bundle, smoke_cfg, tmp_path):
    leaked = bundle.splits["train"][3]
    real = tmp_path / "gsm8k_test.jsonl"
    rows = (FIX / "gsm8k_sample.jsonl").read_text()
    rows += json.dumps({"question": leaked.question, "answer": f"...\n#### {leaked.answer}"}) + "\n"
    real.write_text(rows)
    cfg = load_config(
        "smoke", {"data.real_sets": {"gsm8k": str(real), "svamp": str(FIX / "svamp_sample.json")}}
    )
    b = build_datasets(cfg.data, cfg.seed, show_progress=False)
    assert len(b.real["gsm8k"]) == 6 and b.load_reports["gsm8k"].n_skipped == 3
    assert len(b.real["svamp"]) == 4
    assert leaked.id not in {p.id for p in b.splits["train"]}
    assert len(b.splits["train"]) == cfg.data.n_train - 1
    assert b.contamination.contaminated_train == {leaked.id}
    hit = b.contamination.sets["gsm8k"]
    assert hit["n_train_contaminated"] == 1 and hit["test_ids"] == ["gsm8k-8"]
    assert b.contamination.sets["svamp"]["n_train_contaminated"] == 0
    card = render_card(b)
    assert "real/gsm8k" in card and "invalid JSON: 1" in card and "removed from train: 1" in card
    paths = b.write(tmp_path / "data")
    assert [p.id for p in read_jsonl(paths["real/gsm8k"])] == [p.id for p in b.real["gsm8k"]]

    report_only = load_config(
        "smoke", {"data.real_sets": {"gsm8k": str(real)}, "data.decontaminate": False}
    )
    b2 = build_datasets(report_only.data, report_only.seed, show_progress=False)
    assert leaked.id in {p.id for p in b2.splits["train"]}
    assert b2.contamination.contaminated_train == {leaked.id}


def test_bad_real_set_and_bad_family_fail_clearly(tmp_path):
    cfg = load_config("smoke", {"data.real_sets": {"gsm8k": str(tmp_path / "missing.jsonl")}})
    with pytest.raises(ValueError, match="missing.jsonl does not exist"):
        build_datasets(cfg.data, cfg.seed, show_progress=False)
    cfg = load_config("smoke", {"data.heldout_families": ["work_rates"]})
    with pytest.raises(ValueError, match="work_rate"):
        build_datasets(cfg.data, cfg.seed, show_progress=False)
