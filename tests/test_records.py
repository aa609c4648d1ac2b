"""Problem/Sample/Pair/StepLabels rows: validation, JSONL round trip, datasets compatibility."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathlab.data.records import (
    Pair,
    Problem,
    RecordError,
    Sample,
    StepLabels,
    read_jsonl,
    read_rows,
    write_jsonl,
)


def problem(i: int = 0, **kw) -> Problem:
    base = dict(
        id=f"gen-{i}",
        question=f"Ann has {i} apples and buys 3. How many now?",
        answer=str(i + 3),
        solution=f"{i} + 3 = <<{i}+3={i + 3}>>{i + 3}\n#### {i + 3}",
        source="gen",
        split="train",
        meta={
            "family": "shopping",
            "steps": 1,
            "lang": "en",
            "program": json.dumps([["add", "a", "b"]]),
        },
    )
    base.update(kw)
    return Problem(**base)


def good_row(**kw) -> dict:
    row = problem(1).to_dict()
    row.update(kw)
    return row


def test_problem_ctor_is_compatible():
    p = Problem("x-1", "What is 2+2?", "4")
    assert (p.solution, p.source, p.split, p.meta) == ("", "", "train", {})
    assert Problem.from_dict(p.to_dict()) == p
    assert Problem.from_dict({"id": "a", "question": "q", "answer": "1"}).split == "train"


def test_round_trip(tmp_path: Path):
    rows = [problem(i) for i in range(5)] + [
        problem(
            9,
            question="小明有3个苹果，又买了2个。",
            answer="5",
            meta={"lang": "zh", "nested": {"a": [1, 2.5, None]}},
        )
    ]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    back = read_jsonl(path)
    assert back == rows and back.skipped == []
    assert "小明" in path.read_text(encoding="utf-8")  # written as UTF-8, not \u escapes


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        ("{not json", None, "invalid JSON"),
        (json.dumps(["a", "list"]), None, "must be a JSON object"),
        (json.dumps({k: v for k, v in good_row().items() if k != "answer"}), "answer", "missing"),
        (json.dumps(good_row(answer=5)), "answer", "expected a string"),
        (json.dumps(good_row(question="   ")), "question", "empty question"),
        (json.dumps(good_row(split="validation")), "split", "train|dev|test"),
        (json.dumps(good_row(meta=["family"])), "meta", "expected an object"),
        (json.dumps(good_row(answer="None")), "answer", "unparseable gold"),
        (json.dumps(good_row(extra=1)), "extra", "unknown field"),
    ],
)
def test_bad_row_names_file_line_and_field(
    tmp_path: Path, line: str, field: str | None, reason: str
):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(good_row()) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(RecordError) as err:
        read_jsonl(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:3: "), msg
    assert reason in msg
    if field:
        assert f"field '{field}'" in msg and err.value.field == field

    lenient = read_jsonl(path, lenient=True)
    assert [p.id for p in lenient] == ["gen-1"]
    assert len(lenient.skipped) == 1 and lenient.skipped[0][0] == 3
    assert reason in lenient.skipped[0][1]


def test_check_answer_can_be_turned_off(tmp_path: Path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(good_row(answer="None")) + "\n")
    assert read_jsonl(path, check_answer=False)[0].answer == "None"


def test_write_refuses_bad_records_and_writes_nothing(tmp_path: Path):
    path = tmp_path / "out.jsonl"
    with pytest.raises(RecordError, match=r"record 1 \(id 'gen-1'\): field 'split'"):
        write_jsonl(path, [problem(0), problem(1, split="eval")])
    with pytest.raises(RecordError, match=r"field 'meta'.*nan"):
        write_jsonl(path, [problem(0, meta={"x": float("nan")})])
    with pytest.raises(RecordError, match=r"field 'meta'.*set"):
        write_jsonl(path, [problem(0, meta={"x": {1, 2}})])
    with pytest.raises(RecordError, match=r"field 'answer'.*unparseable"):
        write_jsonl(path, [problem(0, answer="n/a")])
    assert not path.exists()
    assert not list(tmp_path.iterdir())  # no temp file left behind


def test_write_is_atomic_replace(tmp_path: Path):
    path = tmp_path / "p.jsonl"
    write_jsonl(path, [problem(0)])
    with pytest.raises(RecordError):
        write_jsonl(path, [problem(1), problem(2, question="")])
    assert [p.id for p in read_jsonl(path)] == ["gen-0"]  # the old file is intact


def test_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        read_jsonl(tmp_path / "nope.jsonl")


def test_load_dataset_reads_written_files(tmp_path: Path):
    datasets = pytest.importorskip("datasets")
    rows = [
        problem(0),
        problem(1, meta={"level": "Level 5", "subject": "Algebra"}),
        problem(2, meta={"level": 3}),
        problem(3, meta={}),
    ]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    ds = datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert ds.num_rows == 4
    assert ds[1]["id"] == "gen-1" and ds[1]["answer"] == "4"
    assert ds[1]["meta"]["level"] == "Level 5" and ds[2]["meta"]["level"] == 3

    samples = [
        Sample("gen-0", "tiny", "cot", "Q", "The answer is: 3", "3", True, 7, seed=0),
        Sample("gen-1", "tiny", "pot", "Q", "print(1)", None, False, 5),
    ]
    spath = write_jsonl(tmp_path / "s.jsonl", samples)
    ds = datasets.load_dataset(
        "json", data_files=str(spath), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert ds["correct"] == [True, False] and ds["pred"] == ["3", None]


def test_other_rows_round_trip_and_validate(tmp_path: Path):
    s = Sample("gen-0", "tiny", "cot", "Q", "... The answer is: 3", "3", True, 12, seed=1)
    pair = Pair("Q", "good", "bad", problem_id="gen-0", source="sft")
    labels = StepLabels("Q", ["a = 1", "b = 2"], [1.0, 0.0], method="math-shepherd")
    for rec, cls in ((s, Sample), (pair, Pair), (labels, StepLabels)):
        path = write_jsonl(tmp_path / f"{cls.__name__}.jsonl", [rec])
        assert read_rows(path, cls) == [rec]

    with pytest.raises(RecordError, match="field 'style'"):
        write_jsonl(tmp_path / "x.jsonl", [Sample("p", "m", "poetry", "Q", "c", None, False, 1)])
    with pytest.raises(RecordError, match="field 'correct'"):
        Sample.from_row({**s.to_dict(), "correct": 1})
    with pytest.raises(RecordError, match="2 steps but 1 labels"):
        StepLabels.from_row({**labels.to_dict(), "labels": [1.0]})
    bad = tmp_path / "bad_pairs.jsonl"
    bad.write_text(json.dumps({"prompt": "Q", "chosen": "a"}) + "\n")
    with pytest.raises(RecordError, match=rf"{bad}:1: field 'rejected': missing"):
        read_rows(bad, Pair)
