"""Real-set loaders on hand-written fixtures in each real format (awkward rows included)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from mathlab.data.loaders import (
    KINDS,
    LoadError,
    clean_number,
    format_float,
    kind_from_name,
    last_boxed,
    load_real,
    parse_hub_spec,
)
from mathlab.data.records import RecordError, read_jsonl, write_jsonl

FIX = Path(__file__).parent / "fixtures"


def by_row(problems):
    return {p.meta["row"]: p for p in problems}


def test_gsm8k_fixture():
    problems, report = load_real(FIX / "gsm8k_sample.jsonl")
    assert report.kind == "gsm8k" and report.n_rows == 8 and report.n_loaded == 5
    assert report.reasons == {"invalid JSON": 1, "no final answer": 1, "empty field": 1}
    assert [w for w, _, _ in report.skipped] == ["line 5", "line 6", "line 7"]
    rows = by_row(problems)
    assert rows[1].answer == "2125" and rows[1].meta["raw_answer"] == "2,125"
    assert rows[2].answer == "46000"
    assert rows[0].solution.startswith("In the afternoon she picks 12 * 2 = <<12*2=24>>24")
    assert rows[0].solution.endswith("#### 36")  # lossless: the whole answer text
    assert rows[0].meta["steps"] == 2 and rows[0].meta["lang"] == "en"
    assert [p.id for p in problems] == ["gsm8k-0", "gsm8k-1", "gsm8k-2", "gsm8k-3", "gsm8k-7"]
    assert {p.split for p in problems} == {"test"} and {p.source for p in problems} == {"gsm8k"}


def test_strict_mode_names_file_line_and_field():
    with pytest.raises(RecordError, match=r"gsm8k_sample.jsonl:line 5: invalid JSON"):
        load_real(FIX / "gsm8k_sample.jsonl", strict=True)
    with pytest.raises(RecordError, match=r"svamp_sample.json:item 4: field 'Answer': missing"):
        load_real(FIX / "svamp_sample.json", strict=True)


def test_math_boxed_nested_and_last():
    problems, report = load_real(FIX / "math_sample.jsonl")
    rows = by_row(problems)
    assert report.kind == "math" and report.reasons == {"no final answer": 1}
    assert rows[0].answer == r"\frac{1}{2}"
    assert rows[1].answer == "5"  # the last \boxed{} counts
    assert rows[2].answer == r"(3, \infty)"
    assert rows[3].answer == "2"  # `\boxed 2` without braces
    assert rows[4].answer == r"\frac{2^{2}}{3^{2}}"
    assert rows[0].meta["level"] == "Level 1" and rows[0].meta["type"] == "Prealgebra"
    assert rows[0].solution.endswith(r"\boxed{\frac{1}{2}}$.")


def test_math500_answer_field_and_extras_in_meta():
    problems, report = load_real(FIX / "math500_sample.jsonl")
    rows = by_row(problems)
    assert report.kind == "math500" and report.n_skipped == 0
    assert rows[0].answer == r"\left( 3, \frac{\pi}{2} \right)"
    assert rows[0].meta["subject"] == "Precalculus" and rows[0].meta["level"] == 2
    assert rows[0].meta["unique_id"] == "test/precalculus/807.json"
    assert rows[3].answer == "2" and rows[3].meta["answer_from"] == "boxed"  # empty answer


def test_svamp_float_answers():
    problems, report = load_real(FIX / "svamp_sample.json")
    rows = by_row(problems)
    assert [rows[i].answer for i in range(4)] == ["51", "1", "2.5", "850"]
    assert rows[0].question == (
        "Each pack of dvds costs 76 dollars. If there is a discount of 25 "
        "dollars on each pack How much do you have to pay to buy each pack?"
    )
    assert rows[0].meta["Equation"] == "( 76.0 - 25.0 )" and rows[0].meta["source_id"] == "chal-1"
    assert report.skipped == [("item 4", "missing field", report.skipped[0][2])]


def test_asdiv_units_and_non_numeric():
    problems, report = load_real(FIX / "asdiv_sample.xml")
    rows = by_row(problems)
    assert {i: p.answer for i, p in rows.items()} == {0: "9", 1: "850", 4: "1.5", 5: "3/8"}
    assert rows[0].meta["unit"] == "apples" and rows[0].meta["raw_answer"] == "9 (apples)"
    assert rows[0].meta["Formula"] == "7+2=9" and rows[0].meta["Grade"] == "1"
    assert report.reasons == {"non-numeric answer": 2}
    details = {w: d for w, _, d in report.skipped}
    assert details["Problem 2 (ID=nluds-0003)"] == "'2:3'"
    assert details["Problem 3 (ID=nluds-0004)"] == "'5 (m); 3 (n)'"


def test_cmath_fractions_kept_and_chinese():
    problems, report = load_real(FIX / "cmath_sample.jsonl")
    rows = by_row(problems)
    assert rows[1].answer == "2/6"  # unreduced: kept as given, graded numerically
    assert rows[3].question.startswith("妈妈买了3袋糖")  # `question` instead of `input`
    assert rows[4].answer == "7.2"
    assert {p.meta["lang"] for p in problems} == {"zh"} and rows[2].meta["steps"] == 2
    assert report.reasons == {"missing field": 1}
    from mathlab.answers import is_correct

    assert is_correct("The answer is: 1/3", rows[1].answer)


def test_gsm_plus_none_answers_are_counted():
    problems, report = load_real(FIX / "gsm_plus_sample.jsonl")
    rows = by_row(problems)
    assert report.kind == "gsm_plus" and report.reasons == {"no gold answer": 2}
    assert all("critical thinking" in d for _, _, d in report.skipped)
    assert rows[2].answer == "2550" and rows[3].answer == "53.85"
    assert rows[0].meta["perturbation_type"] == "numerical substitution"
    assert rows[0].meta["seed_answer"] == "18" and "seed_question" in rows[0].meta


def test_metamath_both_layouts():
    problems, report = load_real(FIX / "metamath_backward_sample.jsonl")
    rows = by_row(problems)
    assert rows[0].answer == "12" and rows[0].meta["layout"] == "metamathqa"
    assert rows[0].meta["type"] == "GSM_FOBAR" and "original_question" in rows[0].meta
    assert rows[2].answer == "2" and rows[2].meta["layout"] == "question_answer"
    assert rows[2].solution.endswith("#### 2")
    assert rows[3].answer == "100"
    assert report.reasons == {"no final answer": 1, "unrecognized layout": 1}


def test_kind_inference_by_name_and_by_contents(tmp_path: Path):
    assert kind_from_name("gsm8k_test") == "gsm8k"
    assert kind_from_name("GSM-Plus") == "gsm_plus"
    assert kind_from_name("HuggingFaceH4/MATH-500") == "math500"
    assert kind_from_name("cmath_dev") == "cmath" and kind_from_name("mathlab") is None
    assert kind_from_name("MetaMathQA-GSM-backward") == "metamath_backward"
    for src in FIX.iterdir():  # the same rows under an anonymous name: sniffed from fields
        anon = tmp_path / f"data{src.suffix}"
        anon.write_bytes(src.read_bytes())
        _, report = load_real(anon, name="x")
        expected = src.name.split("_sample")[0]
        assert report.kind == expected, src.name


def test_name_and_split_and_orig_split(tmp_path: Path):
    path = tmp_path / "train.jsonl"
    path.write_bytes((FIX / "gsm8k_sample.jsonl").read_bytes())
    problems, report = load_real(path, name="gsm8k_dev", split="dev")
    assert report.kind == "gsm8k"
    assert problems[0].id == "gsm8k_dev-0" and problems[0].source == "gsm8k_dev"
    assert problems[0].split == "dev" and problems[0].meta["orig_split"] == "train"


def test_wrong_kind_is_an_error_not_an_empty_set():
    with pytest.raises(LoadError, match="none of its 6 rows could be used.*kind="):
        load_real(FIX / "math_sample.jsonl", kind="svamp")
    with pytest.raises(LoadError, match="unknown kind"):
        load_real(FIX / "math_sample.jsonl", kind="mmlu")


def test_limit_is_seeded_and_keeps_order():
    a, ra = load_real(FIX / "gsm8k_sample.jsonl", limit=3, seed=1)
    b, _ = load_real(FIX / "gsm8k_sample.jsonl", limit=3, seed=1)
    assert [p.id for p in a] == [p.id for p in b] and len(a) == 3
    assert [p.meta["row"] for p in a] == sorted(p.meta["row"] for p in a)
    assert ra.n_examined >= 3 and ra.n_loaded == 3
    subsets = {
        tuple(p.id for p in load_real(FIX / "gsm8k_sample.jsonl", limit=3, seed=s)[0])
        for s in range(6)
    }
    assert len(subsets) > 1  # the seed matters


def test_loaded_sets_write_read_and_load_dataset(tmp_path: Path):
    datasets = pytest.importorskip("datasets")
    for src in sorted(FIX.iterdir()):
        problems, _ = load_real(src)
        out = write_jsonl(tmp_path / f"{src.stem}.jsonl", problems)
        assert read_jsonl(out) == problems
        ds = datasets.load_dataset(
            "json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf")
        )
        assert ds.num_rows == len(problems) and ds[0]["id"] == problems[0].id


def test_missing_file_and_offline_hub_fail_fast(tmp_path: Path, monkeypatch):
    with pytest.raises(LoadError, match="does not exist"):
        load_real(tmp_path / "gsm8k_test.jsonl")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    start = time.time()
    with pytest.raises(LoadError, match=r"real set 'gsm8k'.*openai/gsm8k.*Pass a local file"):
        load_real("openai/gsm8k")
    assert time.time() - start < 15
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_hub_spec_parsing():
    assert parse_hub_spec("gsm8k") == ("openai/gsm8k", "main", "test")
    assert parse_hub_spec("openai/gsm8k@train") == ("openai/gsm8k", "main", "train")
    assert parse_hub_spec("HuggingFaceH4/MATH-500") == ("HuggingFaceH4/MATH-500", None, "test")
    assert parse_hub_spec("EleutherAI/hendrycks_math:geometry@test")[1] == "geometry"


def test_helpers():
    assert clean_number("2,125") == "2125" and clean_number("3,5") == "3,5"
    assert clean_number("1,000,000.25") == "1000000.25"
    assert format_float(8.0) == "8" and format_float(0.1) == "0.1" and format_float(-2) == "-2"
    assert last_boxed(r"\boxed{a} then \boxed{\frac{1}{\sqrt{2}}}") == r"\frac{1}{\sqrt{2}}"
    assert last_boxed("no box") is None
    assert set(KINDS) >= {"gsm8k", "math", "svamp", "asdiv", "cmath", "gsm_plus"}


def test_math_folder_layout(tmp_path: Path):
    (tmp_path / "MATH" / "test" / "algebra").mkdir(parents=True)
    for i, line in enumerate((FIX / "math_sample.jsonl").read_text().splitlines()[:3]):
        (tmp_path / "MATH" / "test" / "algebra" / f"{i}.json").write_text(line)
    problems, report = load_real(tmp_path / "MATH" / "test")
    assert report.kind == "math" and report.n_loaded == 3
    assert report.source.endswith("test")


def test_real_gsm8k_train(gsm8k_train_path: Path):
    start = time.time()
    problems, report = load_real(gsm8k_train_path, name="gsm8k")
    assert report.n_rows == 7473 and report.n_loaded == 7473, report.summary()
    assert report.skipped == []
    with_commas = [p for p in problems if "," in p.meta.get("raw_answer", "")]
    assert len(with_commas) == 79
    assert all("," not in p.answer for p in problems)
    first = json.loads(gsm8k_train_path.open().readline())
    assert problems[0].question == first["question"] and problems[0].solution == first["answer"]
    assert time.time() - start < 20
