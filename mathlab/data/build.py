"""Build every data file of a run (what notebooks/00_data.ipynb calls).

:func:`build_datasets` makes, from a DataParams section and a seed:

* ``train``: generated problems from the training families (all families minus
  ``heldout_families``), cleaned: exact duplicates, same-program duplicates
  (:func:`mathlab.data.generator.program_key`) and near duplicates (MinHash) removed,
  then decontaminated against every real set (13-gram overlap, MathPile/GPT-3 rule);
* ``test``: generated from the training families, with every program that occurs in
  train removed (generated sets share template words by design, so they are kept
  disjoint by program, not by n-grams);
* ``test_heldout``: generated from the held-out families (generalization);
* ``test_distractor`` / ``test_backward``: each test problem with an irrelevant sentence
  added (GSM-IC) / turned into a FOBAR backward question (MetaMath);
* ``real[<set>]``: each entry of ``real_sets`` loaded with :func:`load_real` (a seeded
  subset of ``real_sample`` rows when set), kept as published (duplicates reported, not
  removed, so scores stay comparable).

Sets are generated with a margin and topped up when cleaning removes too many, so each
split has the size asked for (the card says when the family space ran out). The returned
:class:`DataBundle` writes the JSONL files, a reports.json, and gives the counts the data
card and the metrics use.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from mathlab.config import DataParams
from mathlab.data.dedup import (
    ContaminationReport,
    DedupReport,
    contamination,
    decontaminate,
    disjoint_by_program,
    exact_dedup,
    near_dedup,
    program_dedup,
    tokens,
)
from mathlab.data.loaders import LoadReport, load_real
from mathlab.data.records import Problem, write_jsonl
from mathlab.paths import repo_root
from mathlab.runs import atomic_write_json

GENERATED = ("train", "test", "test_heldout", "test_distractor", "test_backward")
MAX_ROUNDS = 6  # top-up rounds before giving up on reaching the asked size


def sub_seed(seed: int, name: str, round_: int = 0) -> int:
    """A stable seed per (run seed, set, round): sets never share random streams."""
    return zlib.crc32(f"{seed}:{name}:{round_}".encode()) & 0x7FFFFFFF


@dataclass
class DataBundle:
    """Everything 00_data builds: the sets, the reports, the parameters."""

    splits: dict[str, list[Problem]]
    real: dict[str, list[Problem]] = field(default_factory=dict)
    load_reports: dict[str, LoadReport] = field(default_factory=dict)
    dedup: dict[str, list[DedupReport]] = field(default_factory=dict)
    contamination: ContaminationReport | None = None
    template_overlap: ContaminationReport | None = None  # informational: generated sets
    real_duplicates: dict[str, DedupReport] = field(default_factory=dict)
    shortfalls: dict[str, str] = field(default_factory=dict)
    families: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def sets(self) -> dict[str, list[Problem]]:
        """Every set by name: generated splits, then `real/<name>`."""
        out = {k: v for k, v in self.splits.items()}
        out.update({f"real/{k}": v for k, v in self.real.items()})
        return out

    def counts(self) -> dict[str, dict[str, Any]]:
        """Per set: n, and counts by family, steps and language."""
        out = {}
        for name, problems in self.sets().items():
            out[name] = {
                "n": len(problems),
                "by_family": dict(sorted(Counter(_family(p) for p in problems).items())),
                "by_steps": {
                    str(k): v
                    for k, v in sorted(
                        Counter(p.meta.get("steps") for p in problems).items(),
                        key=lambda kv: (kv[0] is None, kv[0] or 0),
                    )
                },
                "by_lang": dict(Counter(p.meta.get("lang", "?") for p in problems)),
            }
        return out

    def frame(self):
        """A pandas DataFrame, one row per problem: set, id, family, steps, lang, words."""
        import pandas as pd

        rows = [
            {
                "set": name,
                "id": p.id,
                "family": _family(p),
                "steps": p.meta.get("steps"),
                "lang": p.meta.get("lang", "?"),
                "question_tokens": len(tokens(p.question)),
            }
            for name, problems in self.sets().items()
            for p in problems
        ]
        return pd.DataFrame(
            rows, columns=["set", "id", "family", "steps", "lang", "question_tokens"]
        )

    def details(self) -> dict[str, Any]:
        """The JSON-able summary that goes into metrics/00_data.json `details`."""
        dd = {split: {r.method: r.n_removed for r in reps} for split, reps in self.dedup.items()}
        return {
            "counts": {k: v["n"] for k, v in self.counts().items()},
            "by_family": {
                k: v["by_family"] for k, v in self.counts().items() if not k.startswith("real/")
            },
            "by_steps": {k: v["by_steps"] for k, v in self.counts().items()},
            "dedup_removed": dd,
            "real_duplicates": {k: r.n_removed for k, r in self.real_duplicates.items()},
            "contamination": None
            if self.contamination is None
            else {
                name: {k: s[k] for k in ("n_test", "n_test_contaminated", "n_train_contaminated")}
                for name, s in self.contamination.sets.items()
            },
            "train_removed_by_decontamination": 0
            if self.contamination is None
            else len(self.contamination.contaminated_train),
            "real_sets": {k: r.to_dict(max_examples=5) for k, r in self.load_reports.items()},
            "shortfalls": self.shortfalls,
            "families": self.families,
            "timings_s": self.timings,
        }

    def reports(self) -> dict[str, Any]:
        """Every report in full (reports.json)."""
        return {
            "params": self.params,
            "seed": self.seed,
            "dedup": {k: [r.to_dict(max_examples=50) for r in v] for k, v in self.dedup.items()},
            "real_duplicates": {
                k: r.to_dict(max_examples=50) for k, r in self.real_duplicates.items()
            },
            "contamination": self.contamination.to_dict() if self.contamination else None,
            "template_overlap": self.template_overlap.to_dict() if self.template_overlap else None,
            "load_reports": {k: r.to_dict(max_examples=200) for k, r in self.load_reports.items()},
            "shortfalls": self.shortfalls,
        }

    def write(self, data_dir: str | Path) -> dict[str, Path]:
        """Write <data_dir>/{train,test,...}.jsonl, real/<set>.jsonl and reports.json."""
        data_dir = Path(data_dir)
        paths = {}
        for name, problems in self.splits.items():
            paths[name] = write_jsonl(data_dir / f"{name}.jsonl", problems)
        for name, problems in self.real.items():
            paths[f"real/{name}"] = write_jsonl(
                data_dir / "real" / f"{name}.jsonl", problems, check_answer=True
            )
        paths["reports"] = atomic_write_json(data_dir / "reports.json", self.reports())
        return paths


def _family(p: Problem) -> str:
    return str(
        p.meta.get("family")
        or p.meta.get("subject")
        or p.meta.get("type")
        or p.meta.get("kind")
        or p.source
    )


# --------------------------------------------------------------------------- generation
class _Ids:
    """Consecutive generator indices, so ids are unique across every generated set."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, n: int) -> int:
        start, self.next = self.next, self.next + n
        return start


def _fill(
    name: str,
    n: int,
    make: Callable[[int, int], list[Problem]],
    clean: Callable[[list[Problem]], tuple[list[Problem], list[DedupReport]]],
    shortfalls: dict[str, str],
) -> tuple[list[Problem], list[DedupReport]]:
    """Generate with a margin, clean, top up until `n` survive (or report the shortfall)."""
    pool: list[Problem] = []
    kept: list[Problem] = []
    reports: list[DedupReport] = []
    if n <= 0:
        return [], []
    for round_ in range(MAX_ROUNDS):
        missing = n - len(kept)
        pool += make(max(missing + missing // 10 + 4, 8), round_)
        kept, reports = clean(pool)
        if len(kept) >= n:
            break
    if len(kept) < n:
        shortfalls[name] = (
            f"asked for {n}, got {len(kept)} distinct problems after "
            f"{MAX_ROUNDS} rounds ({len(pool)} generated): the families' "
            f"program space is too small for this size"
        )
    if len(kept) > n:
        # Cleaning keeps first occurrences, so cleaning the shortest prefix of the pool that
        # holds n survivors gives exactly those n, with reports that count only what was used.
        cut = next(i for i, p in enumerate(pool) if p is kept[n - 1])
        pool = pool[: cut + 1]
        kept, reports = clean(pool)
        assert len(kept) == n, (name, len(kept), n)
    for rep in reports:
        rep.params.setdefault("generated", len(pool))
    return kept, reports


def build_datasets(cfg: DataParams, seed: int, show_progress: bool = True) -> DataBundle:
    """Generate, load, clean, dedup and decontaminate every set of a run (see module doc)."""
    from mathlab.data import generator as gen

    t0 = time.time()
    log = print if show_progress else (lambda *a, **k: None)
    families = list(cfg.families) if cfg.families else list(gen.FAMILIES)
    train_fams, heldout_fams = gen.split_families(families, cfg.heldout_families)
    bundle = DataBundle(
        splits={},
        seed=seed,
        params=cfg.model_dump(mode="json"),
        families={"train": list(train_fams), "heldout": list(heldout_fams)},
    )
    # 1-2. generated train, and test sets disjoint from it by program
    train, test, heldout = _generate(cfg, seed, bundle, log)
    bundle.timings["generate_s"] = round(time.time() - t0, 2)

    # 3. robustness variants of the test set
    t1 = time.time()
    distractor = _variants(test, gen.distractor_variant, seed, "distractor", bundle.shortfalls)
    backward = _variants(test, gen.backward_variant, seed, "backward", bundle.shortfalls)
    log(f"robustness: {len(distractor)} distractor and {len(backward)} backward variants")
    bundle.timings["variants_s"] = round(time.time() - t1, 2)

    # 4. real sets
    t2 = time.time()
    _load_real_sets(cfg, seed, bundle, log)
    bundle.timings["real_s"] = round(time.time() - t2, 2)

    # 5. decontaminate train against every real set (13-gram overlap)
    t3 = time.time()
    train = _check_contamination(cfg, bundle, train, {"test": test, "test_heldout": heldout}, log)
    bundle.timings["contamination_s"] = round(time.time() - t3, 2)

    bundle.splits = {
        "train": train,
        "test": test,
        "test_heldout": heldout,
        "test_distractor": distractor,
        "test_backward": backward,
    }
    bundle.timings["total_s"] = round(time.time() - t0, 2)
    return bundle


def _maker(
    cfg: DataParams, seed: int, ids: _Ids, split: str, fams: list[str], name: str
) -> Callable[[int, int], list[Problem]]:
    """``make(count, round_)``: the next ``count`` generated problems of set ``name``."""
    from mathlab.data import generator as gen

    mix = {key: getattr(cfg, key) for key in gen.MIX_PARAMS}

    def make(count: int, round_: int) -> list[Problem]:
        return gen.generate_problems(
            count,
            sub_seed(seed, name, round_),
            families=fams,
            split=split,
            source="gen",
            start_index=ids.take(count),
            **mix,
        )

    return make


def _clean_train(
    cfg: DataParams, seed: int, pool: list[Problem]
) -> tuple[list[Problem], list[DedupReport]]:
    """Exact, same-program and near duplicates removed."""
    kept, exact = exact_dedup(pool)
    kept, prog = program_dedup(kept)
    kept, near = near_dedup(
        kept, threshold=cfg.near_dup_threshold, ngram=cfg.near_dup_ngram, seed=seed
    )
    return kept, [exact, prog, near]


def _clean_test(
    train: list[Problem], pool: list[Problem]
) -> tuple[list[Problem], list[DedupReport]]:
    """Exact and same-program duplicates removed, and every program that occurs in train."""
    kept, exact = exact_dedup(pool)
    kept, prog = program_dedup(kept)
    kept, overlap = disjoint_by_program(train, kept)
    return kept, [exact, prog, overlap]


def _generate(
    cfg: DataParams, seed: int, bundle: DataBundle, log: Callable[..., None]
) -> tuple[list[Problem], list[Problem], list[Problem]]:
    """Generated train, then the generated test sets, disjoint from train by program:
    (train, test, test_heldout), with their dedup reports in the bundle."""
    train_fams, heldout_fams = bundle.families["train"], bundle.families["heldout"]
    make = partial(_maker, cfg, seed, _Ids())
    train, bundle.dedup["train"] = _fill(
        "train",
        cfg.n_train,
        make("train", train_fams, "train"),
        partial(_clean_train, cfg, seed),
        bundle.shortfalls,
    )
    log(f"train: {len(train)} generated problems from {len(train_fams)} families")

    clean_test = partial(_clean_test, train)
    test, bundle.dedup["test"] = _fill(
        "test", cfg.n_test, make("test", train_fams, "test"), clean_test, bundle.shortfalls
    )
    heldout: list[Problem] = []
    if heldout_fams and cfg.n_test_heldout > 0:
        heldout, bundle.dedup["test_heldout"] = _fill(
            "test_heldout",
            cfg.n_test_heldout,
            make("test", heldout_fams, "test_heldout"),
            clean_test,
            bundle.shortfalls,
        )
    log(
        f"test: {len(test)} (training families), test_heldout: {len(heldout)} "
        f"(held-out families {', '.join(heldout_fams) or 'none'})"
    )
    return train, test, heldout


def _load_real_sets(
    cfg: DataParams, seed: int, bundle: DataBundle, log: Callable[..., None]
) -> None:
    """Every real set into the bundle, with its load report and its exact duplicates
    (reported, kept)."""
    for name, spec in cfg.real_sets.items():
        problems, report = load_real(
            resolve_spec(spec), name=name, limit=cfg.real_sample, seed=seed
        )
        bundle.real[name] = problems
        bundle.load_reports[name] = report
        _, bundle.real_duplicates[name] = exact_dedup(problems, name="exact (reported, kept)")
        log(report.summary())


def _check_contamination(
    cfg: DataParams,
    bundle: DataBundle,
    train: list[Problem],
    generated_tests: dict[str, list[Problem]],
    log: Callable[..., None],
) -> list[Problem]:
    """Train against every real set (13-gram overlap; contaminated problems removed
    unless ``decontaminate`` is off), and the informational overlap with the generated
    test sets; returns train."""
    if bundle.real:
        if cfg.decontaminate:
            train, bundle.contamination = decontaminate(
                train, bundle.real, n=cfg.contamination_ngram
            )
        else:
            bundle.contamination = contamination(train, bundle.real, n=cfg.contamination_ngram)
        log(bundle.contamination.summary())
    bundle.template_overlap = contamination(
        train, generated_tests, n=cfg.contamination_ngram, max_examples=2
    )
    return train


def resolve_spec(spec: str) -> str:
    """A relative path that does not exist from the cwd is tried from the repository root."""
    path = Path(spec).expanduser()
    if path.exists() or path.is_absolute():
        return str(path)
    from_root = repo_root() / path
    return str(from_root) if from_root.exists() else spec


def _variants(
    problems: list[Problem],
    fn: Callable[[Problem, int], Problem],
    seed: int,
    name: str,
    shortfalls: dict[str, str],
) -> list[Problem]:
    """`fn(problem, seed)` for each problem; one that has no such variant (ValueError) is
    counted in `shortfalls` with the generator's reason."""
    out, missing = [], []
    base = sub_seed(seed, name)
    for p in problems:
        try:
            out.append(fn(p, base))
        except ValueError as exc:
            missing.append((p.id, str(exc)))
    if missing:
        shortfalls[f"test_{name}"] = (
            f"{len(missing)} of {len(problems)} test problems have no {name} variant "
            f"(e.g. {missing[0][0]}: {missing[0][1][:160]})"
        )
    return out
