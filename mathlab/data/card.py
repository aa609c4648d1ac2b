"""The data card of a run (`RUN_DIR/data/card.md`), in the spirit of MathPile's datasheet.

It says where every set came from, how many problems each holds (per family, number of
steps and language), what cleaning removed (load skips, exact / program / near
duplicates, train-test program overlap), the 13-gram contamination check against every
real test set, one example per set, and the caveats a reader should know.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mathlab.data.build import DataBundle
from mathlab.data.dedup import ContaminationReport
from mathlab.data.records import Problem
from mathlab.runs import atomic_write_text

_SET_DOC = {
    "train": "generated, training families: what SFT/RFT/RL train on",
    "test": "generated, training families, no program shared with train",
    "test_heldout": "generated, held-out families only (generalization to unseen templates)",
    "test_distractor": "test + one irrelevant sentence per problem (GSM-IC robustness)",
    "test_backward": "test as FOBAR backward questions: one input masked as x, answer given (MetaMath)",
}


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _crosstab(sets: dict[str, list[Problem]], key, label: str) -> str:
    counts = {name: Counter(key(p) for p in problems) for name, problems in sets.items()}
    values = sorted({v for c in counts.values() for v in c}, key=lambda v: (v is None, str(v)))
    if not values:
        return "(no problems)"
    rows = [
        [v if v is not None else "n/a"] + [counts[s].get(v, 0) or "" for s in sets] for v in values
    ]
    rows.append(["**total**"] + [len(p) for p in sets.values()])
    return _table([label, *sets], rows)


def _steps_key(p: Problem):
    s = p.meta.get("steps")
    return f"{s:02d}" if isinstance(s, int) else None


def _clip(text: str, n: int = 400) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 3] + "..."


def _example(name: str, p: Problem) -> str:
    meta = {
        k: v
        for k, v in p.meta.items()
        if k
        in (
            "family",
            "steps",
            "lang",
            "kind",
            "level",
            "subject",
            "type",
            "perturbation_type",
            "parent_id",
            "variant",
            "masked",
            "distractor",
        )
    }
    out = [
        f"**{name}** `{p.id}` {meta}",
        "",
        "```text",
        _clip(p.question),
        "```",
        f"answer: `{p.answer}`",
    ]
    if p.solution:
        out += ["", "```text", _clip(p.solution, 600), "```"]
    return "\n".join(out)


def render_card(bundle: DataBundle, title: str = "Data card", wall_s: float | None = None) -> str:
    """The card as markdown."""
    gen_sets = {k: v for k, v in bundle.splits.items()}
    real_sets = {f"real/{k}": v for k, v in bundle.real.items()}
    md = _header(bundle, title, wall_s)
    md += _sources(bundle, gen_sets, real_sets)
    md += _counts(gen_sets, real_sets)
    md += _cleaning(bundle)
    md += _contamination(bundle)
    md += _examples({**gen_sets, **real_sets})
    md += _CAVEATS
    return "\n".join(md)


def _header(bundle: DataBundle, title: str, wall_s: float | None) -> list[str]:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    took = f" in {wall_s:.1f} s" if wall_s is not None else ""
    return [
        f"# {title}",
        "",
        f"Built by `notebooks/00_data.ipynb` ({when}{took}), seed {bundle.seed}. Files: "
        "`data/<set>.jsonl` in the Problem format (`id, question, answer, solution, source, "
        'split, meta`), loadable with `datasets.load_dataset("json", data_files=...)`; '
        "full cleaning reports in `data/reports.json`.",
        "",
    ]


def _sources(
    bundle: DataBundle, gen_sets: dict[str, list[Problem]], real_sets: dict[str, list[Problem]]
) -> list[str]:
    """Where the generated and real sets came from, and one line per set."""
    prm = bundle.params
    fams = bundle.families
    md = ["## Sources", ""]
    md += [
        f"- **Generated** (`mathlab.data.generator`, program-backed: every answer and "
        f"solution step is computed exactly from the problem's program): training families "
        f"{', '.join(f'`{f}`' for f in fams.get('train', []))}; held-out families "
        f"{', '.join(f'`{f}`' for f in fams.get('heldout', [])) or 'none'}; "
        f"{prm.get('min_steps')}-{prm.get('max_steps')} steps; distractor fraction "
        f"{prm.get('distractor_frac')}, Chinese fraction {prm.get('zh_frac')}."
    ]
    for name, rep in bundle.load_reports.items():
        md.append(
            f"- **real/{name}**: `{rep.source}` read as `{rep.kind}`: {rep.n_rows} rows"
            + (f", a seeded sample of {prm.get('real_sample')}" if rep.limit else "")
            + f", {rep.n_loaded} loaded, {rep.n_skipped} skipped."
        )
    if not bundle.load_reports:
        md.append("- No real sets (pass `real_sets: {name: path or hub id}` to add some).")
    md += [""]
    rows = [
        [f"`{k}`", len(v), _SET_DOC.get(k, "real set, evaluation only (split `test`)")]
        for k, v in {**gen_sets, **real_sets}.items()
    ]
    return md + [_table(["set", "problems", "what it is"], rows), ""]


def _counts(gen_sets: dict[str, list[Problem]], real_sets: dict[str, list[Problem]]) -> list[str]:
    """Problems per family (generated sets), per number of steps and per language."""
    return [
        "## Problems per family",
        "",
        _crosstab(gen_sets, lambda p: p.meta.get("family"), "family"),
        "",
        "## Problems per number of steps",
        "",
        "Steps = reasoning steps of the reference solution (generated: program steps, for "
        "`test_backward` those of the solve-for-x program; GSM8K: lines before `####`; "
        "CMath: `reasoning_step`).",
        "",
        _crosstab({**gen_sets, **real_sets}, _steps_key, "steps"),
        "",
        "## Problems per language",
        "",
        _crosstab({**gen_sets, **real_sets}, lambda p: p.meta.get("lang"), "lang"),
        "",
    ]


def _cleaning(bundle: DataBundle) -> list[str]:
    """What each dedup step removed, the shortfalls, and the real sets' skips and
    duplicates."""
    prm = bundle.params
    md = ["## Cleaning and deduplication", ""]
    rows = [
        [
            f"`{split}`",
            r.method,
            r.n_in,
            r.n_removed,
            r.n_kept,
            ", ".join(f"{e['removed']}~{e['kept']}" for e in r.removed[:2]),
        ]
        for split, reps in bundle.dedup.items()
        for r in reps
    ]
    if rows:
        md += [
            "Generated sets are made with a margin and topped up, so the removals below do "
            "not shrink them. `exact`: same normalised question; `program`: same program "
            "and numbers (`program_key`); `near`: MinHash LSH over word "
            f"{prm.get('near_dup_ngram')}-gram shingles, confirmed with exact Jaccard >= "
            f"{prm.get('near_dup_threshold')}; `train/test program overlap`: test problems "
            "whose program occurs in train.",
            "",
        ]
        md += [
            _table(["set", "step", "in", "removed", "kept", "examples (removed~kept)"], rows),
            "",
        ]
    for name, msg in bundle.shortfalls.items():
        md += [f"- **Shortfall** `{name}`: {msg}"]
    if bundle.shortfalls:
        md += [""]
    if bundle.load_reports:
        md += _real_cleaning(bundle)
    return md


def _real_cleaning(bundle: DataBundle) -> list[str]:
    """The rows skipped while loading each real set, and its exact duplicates."""
    md = ["", "Rows skipped while loading the real sets (nothing is dropped silently):", ""]
    rows = []
    for name, rep in bundle.load_reports.items():
        reasons = "; ".join(f"{k}: {v}" for k, v in rep.reasons.items()) or "none"
        first = (
            f"{rep.skipped[0][0]}: {rep.skipped[0][1]} {rep.skipped[0][2]}"[:120]
            if rep.skipped
            else ""
        )
        rows.append([f"`real/{name}`", rep.n_rows, rep.n_skipped, reasons, first])
    md += [_table(["set", "rows", "skipped", "reasons", "first"], rows), ""]
    rows = [
        [f"`real/{k}`", r.n_removed, r.to_dict()["n_conflicts"]]
        for k, r in bundle.real_duplicates.items()
    ]
    return md + [
        "Exact duplicate questions inside each real set (reported, kept so that scores "
        "stay comparable with published numbers):",
        "",
        _table(["set", "duplicates", "with a different gold"], rows),
        "",
    ]


def _contamination(bundle: DataBundle) -> list[str]:
    """The n-gram check of train against the real sets, then against the generated tests."""
    prm = bundle.params
    n = prm.get("contamination_ngram", 13)
    md = ["## Contamination", ""]
    if bundle.contamination is not None:
        md += _real_contamination(bundle.contamination, n, prm.get("decontaminate", True))
    else:
        md += ["No real sets, so no n-gram contamination check against real benchmarks.", ""]
    if bundle.template_overlap is not None:
        rows = [
            [f"`{k}`", s["n_test"], s["n_test_contaminated"], s["n_train_contaminated"]]
            for k, s in bundle.template_overlap.sets.items()
        ]
        md += [
            f"For comparison, the same {n}-gram test between generated train and the "
            "generated test sets (informational, nothing removed): problems of one family "
            "share template sentences, so an overlap here means a shared template, not a "
            "leaked problem; generated sets are kept disjoint by program instead (see "
            "above), and held-out families share no template with train.",
            "",
            _table(["generated set", "items", "test items hit", "train items hit"], rows),
            "",
        ]
    return md


def _real_contamination(c: ContaminationReport, n: int, removed: bool) -> list[str]:
    """The rule, what was done with contaminated train problems, and one row per real set."""
    action = "removed from train" if removed else "reported only (decontaminate: false)"
    rows = []
    for name, s in c.sets.items():
        ex = s["examples"][0] if s["examples"] else None
        rows.append(
            [
                f"`real/{name}`",
                s["n_test"],
                s["n_short"],
                s["n_test_contaminated"],
                s["n_train_contaminated"],
                f'{ex["train_id"]}~{ex["test_id"]}: "{ex["ngram"][:80]}"' if ex else "",
            ]
        )
    header = [
        "test set",
        "items",
        f"shorter than {n}",
        "test items hit",
        "train items hit",
        "example",
    ]
    return [
        f"A training problem (question + solution) is contaminated when it shares any "
        f"{n}-gram of word tokens with a test question, or contains a whole test question "
        f"shorter than {n} tokens (GPT-3 and MathPile's rule). Contaminated training "
        f"problems were {action}: {len(c.contaminated_train)} in all.",
        "",
        _table(header, rows),
        "",
    ]


def _examples(sets: dict[str, list[Problem]]) -> list[str]:
    """The first problem of every set."""
    md = ["## Examples", ""]
    for name, problems in sets.items():
        if problems:
            md += [_example(name, problems[0]), ""]
    return md


_CAVEATS = [
    "## Intended use and caveats",
    "",
    "- Generated problems are synthetic grade-school word problems written from a fixed "
    "set of sentence templates per family: good for measuring learning and "
    "generalization across families and step counts, not a substitute for the "
    "linguistic diversity of GSM8K.",
    "- Real sets are evaluation-only here (split `test`); their own split, when known, "
    "is in `meta.orig_split`. Gold answers were validated with "
    "`mathlab.answers.check_gold` at load time.",
    "- Robustness sets are derived from `test`: the distractor sentence never changes "
    "the answer; backward questions ask for a masked input given the original answer.",
    "",
]


def write_card(
    bundle: DataBundle, path: str | Path, title: str = "Data card", wall_s: float | None = None
) -> Path:
    """Render the card and write it atomically; returns the path."""
    return atomic_write_text(path, render_card(bundle, title, wall_s))
