"""Which problems a notebook trains and evaluates on, and evaluating a model on them.

* :func:`load_sets`: the training subset and the evaluation sets of a run (the test set,
  the held-out families, the ablation set, the real sets), sized by :class:`SetSizes`.
  Every subset is the start of one seeded shuffle (:func:`seeded_subset`), so notebooks
  that load the sets with the same sizes and seed get the same problems (02 and 03 do), and
  a smaller subset is a prefix of a larger one (:func:`first_n`).
* :func:`evaluate_on`: one model, loaded once, evaluated on several of those sets with one
  set of :class:`EvalOptions` (decoding style, k, budget, generation backend).
* Per-problem correctness, for paired comparisons (:func:`mathlab.stats.compare_paired`):
  :func:`result_flags` from an evaluation, :func:`saved_flags` read back from an earlier
  notebook's samples file; :func:`accuracy_row` a table/plot row from an evaluation.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mathlab.data.records import Problem
from mathlab.runs import stable_hash
from mathlab.sampling import SampleOptions
from mathlab.stats import accuracy_summary


# --------------------------------------------------------------------------- subsets
def seeded_subset(items: Sequence, n: int | None, seed: int = 0) -> list:
    """The first `n` items of one seeded shuffle (all when n is None or >= len).

    Nested by construction: the subset of size 10 is the start of the one of size 20, so a
    data-amount curve adds data instead of drawing a new sample at each size.
    """
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    if n is not None:
        if n < 0:
            raise ValueError(f"subset size must be >= 0, got {n}")
        order = order[:n]
    return [items[i] for i in order]


def first_n(
    sets: dict[str, list[Problem]], names: Sequence[str], n: int | None
) -> dict[str, list[Problem]]:
    """The first `n` problems of each named set (all when n is None): a smaller paired set,
    since every set is the start of one seeded shuffle."""
    return {name: sets[name][:n] if n is not None else sets[name] for name in names}


def ids_hash(problems: Sequence[Problem]) -> str:
    """A short hash of the problem ids (which problems a stage used, in order)."""
    return stable_hash([p.id for p in problems])


ROBUST_SETS = ("test_distractor", "test_backward")
"""00_data's robustness variants of the test split (GSM-IC distractors, MetaMath FOBAR)."""


@dataclass(frozen=True)
class SetSizes:
    """How many problems of each set a run uses (None: all). The evaluation sizes come from
    the shared ``eval:`` section, the training subset and the ablation set from 02_sft's
    (``sft.n_train``, ``sft.ablation_n_eval``): a notebook that compares with 02 loads its
    sets with the same sizes and seed, and gets the same problems."""

    n_train: int | None = None  # training problems (a seeded subset of data/train.jsonl)
    n_test: int | None = None  # test problems
    n_heldout: int | None = None  # held-out-family problems (0: none)
    n_ablation: int | None = None  # the ablation set: the first this-many test problems
    n_real: int = 0  # rows of each data/real/<set>.jsonl (0: none)
    n_robust: int = 0  # problems of test_distractor and test_backward each (0: none)

    @classmethod
    def of(
        cls, eval_params: Any, *, n_train: int | None = None, n_ablation: int | None = None
    ) -> SetSizes:
        """The sizes an ``eval:`` section sets (``cfg.eval``), with the training subset's."""
        return cls(
            n_train=n_train,
            n_test=eval_params.n_test,
            n_heldout=eval_params.n_heldout,
            n_ablation=n_ablation,
            n_real=eval_params.n_real,
            n_robust=eval_params.n_robust,
        )


def load_sets(run, sizes: SetSizes, seed: int) -> dict[str, list[Problem]]:
    """The training set and the evaluation sets of a run, as `sizes` sizes them.

    ``train``: a seeded subset of data/train.jsonl; ``test`` and ``test_heldout``: seeded
    subsets (held-out only when 00_data wrote it); ``ablation``: the first ``n_ablation`` of
    ``test``; ``test_distractor`` and ``test_backward`` (00_data's robustness sets, when it
    wrote them): seeded subsets of ``n_robust``; ``real/<set>``: the first ``n_real`` rows of
    each data/real file.
    """
    from mathlab.data.records import read_jsonl

    train = read_jsonl(run.require("data/train.jsonl", provided_by="00_data"))
    test = read_jsonl(run.require("data/test.jsonl", provided_by="00_data"))
    sets = {
        "train": seeded_subset(train, sizes.n_train, seed),
        "test": seeded_subset(test, sizes.n_test, seed),
    }
    heldout = run.data_dir / "test_heldout.jsonl"
    if heldout.is_file() and sizes.n_heldout != 0:
        sets["test_heldout"] = seeded_subset(read_jsonl(heldout), sizes.n_heldout, seed)
    sets["ablation"] = sets["test"][: sizes.n_ablation or len(sets["test"])]
    if sizes.n_robust > 0:
        for name in ROBUST_SETS:
            path = run.data_dir / f"{name}.jsonl"
            if path.is_file():
                sets[name] = seeded_subset(read_jsonl(path), sizes.n_robust, seed)
    if sizes.n_real > 0:
        for path in sorted((run.data_dir / "real").glob("*.jsonl")):
            sets[f"real/{path.stem}"] = read_jsonl(path)[: sizes.n_real]
    for name, problems in sets.items():
        if not problems:
            raise ValueError(
                f"the {name} set is empty (check sft.n_train / eval.n_test and 00_data)"
            )
    return sets


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class EvalOptions(SampleOptions):
    """How a notebook evaluates: the keyword arguments of ``mathlab.evaluate.evaluate``
    (decoding style, k samples for maj@k at `temperature`, budget, seed) and the generation
    backend (kind and ``get_backend`` options)."""

    k: int = 1  # samples per problem for maj@k (1: greedy only)

    @classmethod
    def of(cls, eval_params: Any, *, device: str, dtype: str, seed: int) -> EvalOptions:
        """The settings of an ``eval:`` section (``cfg.eval``: style, k, temperature,
        max_new_tokens, backend, batch_size) on a device."""
        return super().of(eval_params, device=device, dtype=dtype, seed=seed, k=eval_params.k)

    def evaluate_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``mathlab.evaluate.evaluate`` these options set."""
        return {name: getattr(self, name) for name in _EVALUATE_FIELDS}

    def replace(self, **changes: Any) -> EvalOptions:
        """A copy with some settings changed (``options.replace(k=1, style="cot")``)."""
        return dataclasses.replace(self, **changes)


_EVALUATE_FIELDS = ("style", "k", "temperature", "max_new_tokens", "seed")


def evaluate_on(
    spec: str,
    sets: dict[str, list[Problem]],
    names: Sequence[str],
    options: EvalOptions,
    *,
    stage: str,
    run=None,
    model_name: str | None = None,
) -> dict[str, Any]:
    """Evaluate one model (loaded once) on several sets: {set name: EvalResult}."""
    from mathlab.evaluate import evaluate
    from mathlab.generate import get_backend
    from mathlab.training import free_memory

    backend = get_backend(spec, kind=options.backend, **options.backend_opts)
    results = {}
    for name in names:
        results[name] = evaluate(
            backend,
            sets[name],
            stage=stage,
            dataset=name.replace("/", "_"),
            run=run,
            model_name=model_name or spec,
            **options.evaluate_kwargs(),
        )
        rec = results[name].record
        print(
            f"{stage} ({rec['style']}) on {name}: accuracy {rec['accuracy']:.3f} (n={rec['n']}, "
            f"maj@{rec['k']} {rec['maj_at_k']:.3f}, mean tokens {rec['mean_tokens']:.0f}, "
            f"{rec['wall_s']:.0f}s)",
            flush=True,
        )
    del backend
    free_memory()
    return results


# --------------------------------------------------------------------------- per-problem flags
def result_flags(result) -> list[bool]:
    """Greedy correctness per problem, in problem order, from an EvalResult."""
    return [bool(row["accuracy"]) for row in result.per_problem]


def saved_flags(
    run,
    stage: str,
    dataset: str,
    problems: Sequence[Problem],
    style: str = "cot",
    prefix: bool = False,
) -> list[bool] | None:
    """Greedy correctness per problem read back from an earlier notebook's samples file
    (``samples/<stage>__<dataset>__<style>.jsonl``), in the order of `problems`; None when the
    file is missing or does not cover every problem. prefix: accept a file that covers only
    the first problems (a stage evaluated on fewer, ``eval.n_baseline``) and return the
    flags of that prefix."""
    from mathlab.data.records import Sample, read_rows

    path = run.samples_path(stage, dataset.replace("/", "_"), style)
    if not path.is_file():
        return None
    flags = {s.problem_id: s.correct for s in read_rows(path, Sample) if s.meta.get("greedy")}
    covered = 0
    while covered < len(problems) and problems[covered].id in flags:
        covered += 1
    if covered < len(problems) and not (prefix and covered > 0):
        return None
    return [flags[p.id] for p in problems[:covered]]


def accuracy_row(label: str, result, first: int | None = None, **extra: Any) -> dict[str, Any]:
    """One row for tables/plots: greedy accuracy with its Wilson interval and the mean
    answer length (on the `first` problems of the result only, when given: a prefix of the
    set is a smaller eval set)."""
    rows = result.per_problem[:first] if first is not None else result.per_problem
    tokens = [r["n_tokens"] for r in rows if r.get("n_tokens") is not None]
    return {
        **accuracy_summary(label, [bool(r["accuracy"]) for r in rows]),
        "mean_tokens": sum(tokens) / len(tokens) if tokens else None,
        **extra,
    }
