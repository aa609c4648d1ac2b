"""The metrics contract (mathlab.metrics), the notebook registry and reading a run back."""

import json

import pytest

from mathlab import registry
from mathlab.config import ConfigError
from mathlab.metrics import (
    Comparison,
    MetricsError,
    eval_record,
    validate_comparison,
    validate_eval,
    validate_metrics,
)
from mathlab.notebook import merge_parameters
from mathlab.runs import MissingArtifact, Run, collect


def _paired(n=10, only_a=1, only_b=4, acc_a=0.5, acc_b=0.8):
    return {
        "n": n,
        "acc_a": acc_a,
        "acc_b": acc_b,
        "ci_a": [0.24, 0.76],
        "ci_b": [0.49, 0.94],
        "only_a": only_a,
        "only_b": only_b,
        "mcnemar_p_b_worse": 0.97,
        "mcnemar_p_two_sided": 0.375,
        "ztest_p_b_worse": 0.9,
        "b_significantly_worse": False,
        "alpha": 0.05,
    }


def test_eval_record_fills_the_contract_and_validation_names_the_field():
    record = eval_record("lso", "m", "grid-heldout", "direct", n=441, accuracy=0.1, tokens="number")
    assert record["maj_at_k"] == record["pass_at_k"] == 0.1 and record["by_family"] == {}
    assert record["tokens"] == "number"  # extras kept
    with pytest.raises(MetricsError, match=r"`accuracy` must be a number in \[0, 1\], got 1.3"):
        validate_eval({**record, "accuracy": 1.3})
    with pytest.raises(MetricsError, match="`n` must be int, got str"):
        validate_eval({**record, "n": "441"})
    with pytest.raises(MetricsError, match="`stage` is missing"):
        validate_eval({k: v for k, v in record.items() if k != "stage"})
    with pytest.raises(MetricsError, match=r"by_family\['a'\].*integer `n`"):
        validate_eval({**record, "by_family": {"a": {"accuracy": 0.5}}})
    with pytest.raises(MetricsError, match="got a bool"):
        validate_eval({**record, "k": True})


def test_comparison_round_trip_and_verdict():
    cmp = Comparison.from_paired("sft", "rft", "test", _paired(), style="calc")
    assert cmp.extra["ztest_p_b_worse"] == 0.9 and "b_significantly_worse" in cmp.extra
    d = cmp.to_dict()
    assert validate_comparison(d) is d and Comparison.from_dict(d) == cmp
    assert d["diff_points"] == 30.0 and d["verdict"] == "no significant difference"
    strong = Comparison.from_paired(
        "base", "sft", "test", {**_paired(), "mcnemar_p_two_sided": 1e-5}
    )
    assert strong.verdict == "sft better"
    worse = Comparison.from_paired(
        "sft", "rft", "test", {**_paired(acc_a=0.8, acc_b=0.5), "mcnemar_p_two_sided": 0.01}
    )
    assert worse.verdict == "rft worse"
    with pytest.raises(MetricsError, match="more discordant problems than problems"):
        validate_comparison({**d, "only_a": 8, "only_b": 8})
    with pytest.raises(MetricsError, match="`ci_b` must be 0 <= low <= high <= 1"):
        validate_comparison({**d, "ci_b": [0.9, 0.2]})


def test_run_validates_writes_and_collect_reads_back(tmp_path):
    run = Run(tmp_path, notebook="02_sft", preset="smoke", seed=0)
    with pytest.raises(MetricsError, match="02_sft.json: new eval record"):
        run.add_eval({"stage": "sft"})
    assert not run.metrics_path.exists(), "a rejected record writes nothing"
    run.add_eval(eval_record("baseline", "base", "test", "calc", n=10, accuracy=0.5))
    run.add_eval(eval_record("sft", "sft", "test", "calc", n=10, accuracy=0.8))
    run.add_comparison(Comparison.from_paired("baseline", "sft", "test", _paired()))
    run.add_comparison(Comparison.from_paired("baseline", "sft", "test", _paired(only_b=5)))
    run.finish(note="x")
    other = Run(tmp_path, notebook="00_data", preset="smoke", seed=0)
    other.finish()

    results = collect(tmp_path)
    assert list(results.metrics) == ["00_data", "02_sft"]  # registry order
    evals = results.evals()
    assert list(evals["stage"]) == ["baseline", "sft"] and set(evals["notebook"]) == {"02_sft"}
    comparisons = results.comparisons()
    assert len(comparisons) == 1 and comparisons.iloc[0]["only_b"] == 5  # replaced, not added
    assert results.details("02") == {"note": "x"}
    assert set(results.times()["notebook"]) == {"00_data", "02_sft"}

    bad = json.loads(run.metrics_path.read_text())
    bad["evals"][0]["accuracy"] = 2
    run.metrics_path.write_text(json.dumps(bad))
    with pytest.raises(MetricsError, match=r"02_sft.json: evals\[0\]"):
        collect(tmp_path)
    with pytest.raises(MissingArtifact, match="not a run folder"):
        collect(tmp_path / "nowhere")


def test_validate_metrics_rejects_duplicate_keys_and_missing_top_level():
    record = eval_record("sft", "m", "test", "calc", n=1, accuracy=1.0)
    metrics = {
        "notebook": "02_sft",
        "preset": "smoke",
        "seed": 0,
        "wall_s": 1.0,
        "peak_rss_mb": 1.0,
        "evals": [record, dict(record)],
        "details": {},
    }
    with pytest.raises(MetricsError, match="share stage/model/dataset/style/k"):
        validate_metrics(metrics)
    with pytest.raises(MetricsError, match="missing top-level keys"):
        validate_metrics({"evals": []})


def test_registry_names_providers_and_require_uses_it(tmp_path):
    assert registry.notebook("2").name == "02_sft" == registry.notebook("02_sft.ipynb").name
    with pytest.raises(KeyError, match="no notebook '09'"):
        registry.notebook("09")
    assert registry.provider_of("models/sft") == "02_sft"
    assert registry.provider_of("models/sft_ablations/plain-n40") == "02_sft"
    assert registry.provider_of("models/rft") == "03_rft"
    assert registry.provider_of("models/rfft/digit-direct-square") == "06_rfft"
    assert registry.provider_of("data/train.jsonl") == "00_data"
    assert registry.provider_of("metrics/03_rft.json") == "03_rft"
    assert registry.provider_of("figures/02_sft__loss.png") == "02_sft"
    assert registry.provider_of("somewhere/else") is None
    names = [spec.name for spec in registry.NOTEBOOKS]
    assert names == sorted(names) and len(set(spec.number for spec in registry.NOTEBOOKS)) == 8
    for spec in registry.NOTEBOOKS:  # requirements point backwards or to registered notebooks
        assert all(req in registry.BY_NAME for req in spec.requires), spec.name

    run = Run(tmp_path, notebook="03_rft", preset="smoke")
    with pytest.raises(MissingArtifact, match="run notebook 02_sft first.*--only 02"):
        run.require("models/sft")


def test_one_override_path_conflicts_are_errors():
    assert merge_parameters({"sft.lr": None, "sft.k": 2}, {"seed": 1}) == {"sft.k": 2, "seed": 1}
    assert merge_parameters({"sft.lr": 1e-4}, {"sft.lr": 1e-4}) == {"sft.lr": 1e-4}
    with pytest.raises(ConfigError, match=r"sft.lr is set twice: 0.0001 .* 0.0002"):
        merge_parameters({"sft.lr": 1e-4}, {"sft.lr": 2e-4})


def test_setup_reads_no_environment_side_channel(tmp_path, monkeypatch):
    from mathlab.notebook import setup

    monkeypatch.setenv("MATHLAB_OVERRIDES", json.dumps({"seed": 9}))
    cfg, _ = setup("00_data", preset="smoke", run_dir=tmp_path, knobs={"seed": None})
    assert cfg.seed != 9
    cfg, _ = setup("00_data", preset="smoke", run_dir=tmp_path, knobs={"seed": 4}, overrides={})
    assert cfg.seed == 4
