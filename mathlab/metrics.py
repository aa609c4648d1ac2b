"""The metrics contract: what every notebook writes to `metrics/<notebook>.json`.

    {notebook, preset, seed, wall_s, peak_rss_mb,
     evals: [EvalRecord], comparisons: [Comparison], details: {...}}

* an **eval record** is one model on one problem set with one decoding style
  (`mathlab.evaluate.summarize` builds it): `stage, model, dataset, style, n, k, accuracy,
  maj_at_k, pass_at_k, mean_tokens, by_family, by_steps, by_source, wall_s, greedy`, and
  optional extras (`pass_curve`, `bon_at_k`, `temperature`, `seed`, ...);
* a **comparison** is two stages on the same problems: accuracies with Wilson intervals,
  the discordant counts and McNemar's exact test (`Comparison.from_paired` takes what
  `mathlab.stats.compare_paired` returns);
* `details` stays free-form: what only that notebook measures (loss curves, kept paths,
  LSO verdicts), read by that notebook's own cells.

`Run.add_eval` / `Run.add_comparison` validate before writing, `validate_metrics` checks a
whole file (the notebook tests run it on every record), and `mathlab.runs.collect` reads
every notebook's evals and comparisons of a run folder back as tables.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


class MetricsError(ValueError):
    """A metrics record that breaks the contract; the message names the record and field."""


# field -> (accepted types, may be None)
_NUMBER = (int, float)
EVAL_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "stage": ((str,), False),
    "model": ((str,), False),
    "dataset": ((str,), False),
    "style": ((str,), False),
    "n": ((int,), False),
    "k": ((int,), False),
    "accuracy": (_NUMBER, True),
    "maj_at_k": (_NUMBER, True),
    "pass_at_k": (_NUMBER, True),
    "mean_tokens": (_NUMBER, True),
    "by_family": ((dict,), False),
    "by_steps": ((dict,), False),
    "by_source": ((dict,), False),
    "wall_s": (_NUMBER, True),
    "greedy": ((bool,), False),
}
RATES = ("accuracy", "maj_at_k", "pass_at_k", "bon_at_k")
EVAL_KEY = ("stage", "model", "dataset", "style", "k")


def eval_record(
    stage: str,
    model: str,
    dataset: str,
    style: str,
    n: int,
    accuracy: float | None,
    k: int = 1,
    greedy: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A complete eval record for a result measured outside `evaluate.summarize` (e.g. the
    from-scratch models of 06): at k = 1 maj@k and pass@k are the accuracy; breakdowns
    empty unless given; anything else in `extra` (tokens, split, verdict, ...)."""
    record: dict[str, Any] = {
        "stage": stage,
        "model": model,
        "dataset": dataset,
        "style": style,
        "n": n,
        "k": k,
        "accuracy": accuracy,
        "maj_at_k": accuracy if k == 1 else None,
        "pass_at_k": accuracy if k == 1 else None,
        "mean_tokens": None,
        "by_family": {},
        "by_steps": {},
        "by_source": {},
        "wall_s": None,
        "greedy": greedy,
    }
    record.update(extra)
    return validate_eval(record)


def _check_type(where: str, name: str, value: Any, types: tuple[type, ...], nullable: bool):
    if value is None:
        if not nullable:
            raise MetricsError(f"{where}: `{name}` is missing or null")
        return
    if isinstance(value, bool) and bool not in types:  # True is an int to Python, not here
        raise MetricsError(f"{where}: `{name}` must be {_names(types)}, got a bool")
    if not isinstance(value, types):
        raise MetricsError(
            f"{where}: `{name}` must be {_names(types)}, got {type(value).__name__} {value!r}"
        )


def _names(types: tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in types)


def _check_rate(where: str, name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, _NUMBER) or math.isnan(value):
        raise MetricsError(f"{where}: `{name}` must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise MetricsError(f"{where}: `{name}` must be a number in [0, 1], got {value!r}")


def validate_eval(record: dict[str, Any], where: str = "eval record") -> dict[str, Any]:
    """Raise MetricsError naming the field if `record` breaks the eval-record contract."""
    if not isinstance(record, dict):
        raise MetricsError(f"{where}: an eval record is a dict, got {type(record).__name__}")
    where = f"{where} ({record.get('stage')!r} on {record.get('dataset')!r})"
    for name, (types, nullable) in EVAL_FIELDS.items():
        _check_type(where, name, record.get(name), types, nullable)
    if record["n"] < 0 or record["k"] < 1:
        raise MetricsError(
            f"{where}: n >= 0 and k >= 1 required, got n={record['n']} k={record['k']}"
        )
    for name in RATES:
        _check_rate(where, name, record.get(name))
    for breakdown in ("by_family", "by_steps", "by_source"):
        for group, row in record[breakdown].items():
            if not isinstance(row, dict) or not isinstance(row.get("n"), int):
                raise MetricsError(f"{where}: `{breakdown}[{group!r}]` needs an integer `n`")
            for name in RATES:
                _check_rate(where, f"{breakdown}[{group!r}].{name}", row.get(name))
    return record


# --------------------------------------------------------------------------- comparisons
@dataclass
class Comparison:
    """Stage `b` against stage `a` on the same `n` problems of `dataset` (paired)."""

    a: str
    b: str
    dataset: str
    n: int
    acc_a: float
    acc_b: float
    ci_a: tuple[float, float]
    ci_b: tuple[float, float]
    only_a: int  # problems a solves and b does not
    only_b: int
    p_two_sided: float  # McNemar's exact test on (only_a, only_b)
    p_b_worse: float  # one-sided: b below a
    alpha: float = 0.05
    test: str = "mcnemar_exact"
    style: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the unpaired z-test's p

    @classmethod
    def from_paired(
        cls, a: str, b: str, dataset: str, result: dict[str, Any], **kw: Any
    ) -> Comparison:
        """From `mathlab.stats.compare_paired(flags_a, flags_b)`'s dict."""
        known = {
            "n",
            "acc_a",
            "acc_b",
            "ci_a",
            "ci_b",
            "only_a",
            "only_b",
            "mcnemar_p_two_sided",
            "mcnemar_p_b_worse",
            "alpha",
        }
        extra = {k: v for k, v in result.items() if k not in known}
        return cls(
            a=a,
            b=b,
            dataset=dataset,
            n=result["n"],
            acc_a=result["acc_a"],
            acc_b=result["acc_b"],
            ci_a=tuple(result["ci_a"]),
            ci_b=tuple(result["ci_b"]),
            only_a=result["only_a"],
            only_b=result["only_b"],
            p_two_sided=result["mcnemar_p_two_sided"],
            p_b_worse=result["mcnemar_p_b_worse"],
            alpha=result.get("alpha", 0.05),
            extra={**extra, **kw.pop("extra", {})},
            **kw,
        )

    @property
    def diff_points(self) -> float:
        return round(100 * (self.acc_b - self.acc_a), 1)

    @property
    def verdict(self) -> str:
        """'b better' / 'b worse' (two-sided McNemar p < alpha) or 'no significant difference'."""
        if self.p_two_sided < self.alpha:
            return f"{self.b} better" if self.acc_b > self.acc_a else f"{self.b} worse"
        return "no significant difference"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ci_a"], d["ci_b"] = list(self.ci_a), list(self.ci_b)
        d["diff_points"], d["verdict"] = self.diff_points, self.verdict
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Comparison:
        fields = {k: v for k, v in d.items() if k not in ("diff_points", "verdict")}
        fields["ci_a"], fields["ci_b"] = tuple(d["ci_a"]), tuple(d["ci_b"])
        return cls(**fields)


def validate_comparison(d: dict[str, Any], where: str = "comparison") -> dict[str, Any]:
    if not isinstance(d, dict):
        raise MetricsError(f"{where}: a comparison is a dict, got {type(d).__name__}")
    where = f"{where} ({d.get('b')!r} vs {d.get('a')!r} on {d.get('dataset')!r})"
    try:
        cmp = Comparison.from_dict(d)
    except TypeError as exc:
        raise MetricsError(f"{where}: {exc}") from None
    for name in ("a", "b", "dataset", "test"):
        _check_type(where, name, getattr(cmp, name), (str,), False)
    for name in ("n", "only_a", "only_b"):
        _check_type(where, name, getattr(cmp, name), (int,), False)
    for name in ("acc_a", "acc_b", "p_two_sided", "p_b_worse", "alpha"):
        _check_rate(where, name, getattr(cmp, name))
    for name in ("ci_a", "ci_b"):
        low, high = getattr(cmp, name)
        if not 0.0 <= low <= high <= 1.0:
            raise MetricsError(
                f"{where}: `{name}` must be 0 <= low <= high <= 1, got {low}, {high}"
            )
    if cmp.only_a + cmp.only_b > cmp.n:
        raise MetricsError(f"{where}: more discordant problems than problems ({cmp.n})")
    return d


# --------------------------------------------------------------------------- a whole file
TOP_LEVEL = ("notebook", "preset", "seed", "wall_s", "peak_rss_mb", "evals", "details")


def empty_metrics(notebook: str, preset: str, seed: int) -> dict[str, Any]:
    return {
        "notebook": notebook,
        "preset": preset,
        "seed": seed,
        "wall_s": None,
        "peak_rss_mb": None,
        "evals": [],
        "comparisons": [],
        "details": {},
    }


def validate_metrics(metrics: dict[str, Any], where: str = "metrics") -> dict[str, Any]:
    """Check a whole metrics file: top-level keys, every eval record, every comparison."""
    missing = [k for k in TOP_LEVEL if k not in metrics]
    if missing:
        raise MetricsError(f"{where}: missing top-level keys {missing}")
    if not isinstance(metrics["details"], dict):
        raise MetricsError(f"{where}: `details` must be a dict")
    for i, record in enumerate(metrics["evals"]):
        validate_eval(record, f"{where}: evals[{i}]")
    keys = [tuple(r.get(k) for k in EVAL_KEY) for r in metrics["evals"]]
    if len(set(keys)) != len(keys):
        raise MetricsError(f"{where}: two eval records share stage/model/dataset/style/k")
    for i, cmp in enumerate(metrics.get("comparisons", [])):
        validate_comparison(cmp, f"{where}: comparisons[{i}]")
    return metrics
