"""A program-backed generator of grade-school word problems.

Every problem comes from a small straight-line program over named quantities (see
:mod:`mathlab.data.program`), so its step-by-step solution, with GSM8K calculator
annotations, and its answer are exact by construction. Thirteen families
(:data:`FAMILIES`) each write their programs through many sentence templates in English
and Chinese; steps (1..6), language, distractor sentences and the family split are
parameters; output is deterministic for a seed.

>>> ps = generate_problems(2, seed=0, min_steps=2, max_steps=2)
>>> [p.meta["steps"] for p in ps], [p.solution.count("<<") for p in ps]
([2, 2], [2, 2])
>>> from fractions import Fraction
>>> execute_program(ps[0].meta["program"]) == Fraction(ps[0].answer)
True

This module is the driver: checking the arguments, drawing family, steps, language and
distractor for each problem, and writing one problem from its family's program. Solution
renderings (the SFT data-format styles) and dedup keys are in
:mod:`mathlab.data.solutions`; the exact variants, :func:`distractor_variant` (GSM-IC) and
:func:`backward_variant` (MetaMath FOBAR), in :mod:`mathlab.data.variants`. Their public
names are importable from here too.
"""

from __future__ import annotations

import difflib
import random
import re
from typing import Any

from mathlab.data import lexicon
from mathlab.data.families import BUILDERS
from mathlab.data.program import (
    INTEGER_KINDS,
    Ctx,
    Retry,
    execute_program,
    fill_markers,
    fmt,
    join_sentences,
    number_json,
    program_values,
)
from mathlab.data.records import SPLITS, Problem
from mathlab.data.solutions import (
    ANSWER_IS,
    STYLES,
    convert_solution_text,
    program_key,
    render_solution,
)
from mathlab.data.variants import add_distractor, backward_variant, distractor_variant

__all__ = [
    "ANSWER_IS",
    "DEFAULT_HELDOUT",
    "FAMILIES",
    "INTEGER_KINDS",
    "LANGS",
    "MAX_STEPS",
    "MIX_PARAMS",
    "STYLES",
    "backward_variant",
    "convert_solution_text",
    "distractor_variant",
    "execute_program",
    "generate_problem",
    "generate_problems",
    "program_key",
    "render_solution",
    "split_families",
]

FAMILIES: list[str] = list(BUILDERS)
"""Every family, in a fixed order."""
DEFAULT_HELDOUT = ["work_rate"]
LANGS = ("en", "zh")
MIN_STEPS, MAX_STEPS = 1, 6
MAX_TRIES = 1000
MIX_PARAMS = ("min_steps", "max_steps", "distractor_frac", "zh_frac")
"""The :func:`generate_problems` arguments that set the mix of a set (a DataParams section
holds each under the same name)."""


# ---------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------
def _check_families(families: list[str] | None, param: str = "families") -> list[str]:
    if families is None:
        return list(FAMILIES)
    if isinstance(families, str):
        raise ValueError(f"{param} must be a list of family names, not the string {families!r}")
    out = []
    for f in families:
        if f not in BUILDERS:
            close = difflib.get_close_matches(str(f), FAMILIES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{param}: unknown family {f!r}{hint}; known: {', '.join(FAMILIES)}")
        if f not in out:
            out.append(f)
    if not out:
        raise ValueError(f"{param} is empty")
    return out


def _check_steps(min_steps: int, max_steps: int) -> None:
    for name, v in (("min_steps", min_steps), ("max_steps", max_steps)):
        if isinstance(v, bool) or not isinstance(v, int) or not MIN_STEPS <= v <= MAX_STEPS:
            raise ValueError(
                f"{name} must be an integer from {MIN_STEPS} to {MAX_STEPS}, got {v!r}"
            )
    if min_steps > max_steps:
        raise ValueError(f"min_steps ({min_steps}) is larger than max_steps ({max_steps})")


def _check_frac(name: str, v: float) -> None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a number from 0 to 1, got {v!r}")


def split_families(
    families: list[str] | None, heldout: list[str] | None
) -> tuple[list[str], list[str]]:
    """(training families, held-out families): ``families`` minus ``heldout``, and ``heldout``.

    >>> split_families(["ages", "work_rate", "comparison"], ["work_rate"])
    (['ages', 'comparison'], ['work_rate'])
    """
    fams = _check_families(families)
    held = _check_families(heldout, "heldout") if heldout else []
    missing = [h for h in held if h not in fams]
    if missing:
        raise ValueError(f"heldout families {missing} are not among the families {fams}")
    train = [f for f in fams if f not in held]
    if not train:
        raise ValueError("every family is held out: nothing is left to train on")
    return train, [f for f in fams if f in held]


# ---------------------------------------------------------------------------------------
# Building one problem
# ---------------------------------------------------------------------------------------
_CONNECTORS = re.compile(
    r"^(Then|After that|Later|Next|Also|Meanwhile|On top of that|In addition|First|To start with),?\s+"
)
_DECAP = {
    "He",
    "She",
    "They",
    "The",
    "Each",
    "Every",
    "A",
    "An",
    "It",
    "His",
    "Her",
    "Their",
    "There",
    "This",
    "That",
    "On",
    "In",
    "At",
    "After",
    "Over",
    "For",
    "With",
    "How",
    "What",
    "Calculate",
    "Find",
    "Working",
    "Today",
    "Last",
    "Fencing",
    "Covering",
    "One",
    "Sod",
    "Carpet",
    "Tile",
    "Mulch",
    "Paint",
    "Everything",
    "Store",
}


def _decap(text: str) -> str:
    first = text.split(" ", 1)[0].rstrip(",")
    return text[:1].lower() + text[1:] if first in _DECAP else text


def _if_merge(fact: str, question: str, lang: str) -> str | None:
    """``She gives 5 away.`` + ``How many are left?`` -> ``If she gives 5 away, how many ...?``"""
    if lang == "zh":
        body = re.sub(r"^(然后|之后|后来|另外|接着)，?", "", fact).rstrip("。")
        if "。" in body:
            return None
        return f"如果{body}，{question}"
    body = _CONNECTORS.sub("", fact).rstrip(".")
    if re.search(r"[.!?;]\s", body) or body.startswith("\u27e6"):
        return None
    return f"If {_decap(body)}, {_decap(question)}"


def _program_json(c: Ctx) -> dict[str, Any]:
    return {
        "inputs": {k: number_json(v) for k, v in c.inputs.items()},
        "steps": [
            {"var": s["var"], "expr": s["expr"], "value": number_json(s["value"])} for s in c.steps
        ],
        "answer": c.steps[-1]["var"],
        "kinds": dict(c.kinds),
    }


def _build(family: str, steps: int, lang: str, rng: random.Random) -> Ctx:
    for _ in range(MAX_TRIES):
        c = Ctx(rng, lang, family, steps, lexicon)
        try:
            BUILDERS[family](c)
        except Retry:
            continue
        if len(c.steps) != steps or c.question is None:
            raise AssertionError(
                f"family {family!r} wrote {len(c.steps)} steps for a {steps}-step request (a bug)"
            )
        return c
    raise RuntimeError(f"family {family!r} found no numbers for {steps} steps in {MAX_TRIES} draws")


def generate_problem(
    family: str,
    steps: int,
    seed: int | str,
    lang: str = "en",
    distractor: bool = False,
    index: int = 0,
    source: str = "gen",
    split: str = "train",
) -> Problem:
    """One problem of ``family`` with exactly ``steps`` steps (deterministic in its arguments)."""
    _check_families([family], "family")
    _check_steps(steps, steps)
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rng = random.Random(f"mathlab.gen.problem:{seed}:{family}:{steps}:{lang}:{index}")
    return _make(family, steps, lang, distractor, rng, f"{source}-{index}", source, split)


def _make(family, steps, lang, distractor, rng, pid, source, split) -> Problem:
    c = _build(family, steps, lang, rng)
    sentences = list(c.facts)
    tids = list(c.tids)
    merged = False
    if c.ifable is not None and c.ifable == len(sentences) - 1 and rng.random() < 0.35:
        q = _if_merge(sentences[-1], c.question, lang)
        if q is not None:
            sentences[-1] = q
            merged = True
    if not merged:
        sentences.append(c.question)
    program = _program_json(c)
    values, kinds = program_values(program)
    words = sorted(c.words)
    question = join_sentences(
        [fill_markers(s, values, kinds, lang, set(words)) for s in sentences], lang
    )
    solution_lines = [fill_markers(s, values, kinds, lang) for s in c.solution]
    answer = fmt(values[program["answer"]])
    meta: dict[str, Any] = {
        "family": family,
        "steps": steps,
        "lang": lang,
        "template": "/".join(tids) + ("/if" if merged else ""),
        "distractor": False,
        "answer_kind": c.answer_kind,
        "program": program,
        "surface": {"sentences": sentences, "words": words},
    }
    problem = Problem(
        id=pid,
        question=question,
        answer=answer,
        solution="\n".join(solution_lines + [f"#### {answer}"]),
        source=source,
        split=split,
        meta=meta,
    )
    if distractor:
        problem = add_distractor(problem, rng, keep_id=True)
    return problem


def generate_problems(
    n: int,
    seed: int,
    families: list[str] | None = None,
    min_steps: int = 1,
    max_steps: int = 4,
    distractor_frac: float = 0.0,
    zh_frac: float = 0.0,
    split: str = "train",
    source: str = "gen",
    start_index: int = 0,
) -> list[Problem]:
    """``n`` problems, ids ``<source>-<start_index + i>``; deterministic in all arguments.

    Families take turns (each block of ``len(families)`` problems holds every family once,
    in a seeded order); steps are drawn uniformly from [min_steps, max_steps]; a problem is
    Chinese with probability ``zh_frac`` and carries a distractor sentence with probability
    ``distractor_frac``. Problem ``i`` depends only on (seed, its index, the arguments), so
    ``start_index`` continues a set without repeating it.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(start_index, bool) or not isinstance(start_index, int) or start_index < 0:
        raise ValueError(f"start_index must be a non-negative integer, got {start_index!r}")
    fams = _check_families(families)
    _check_steps(min_steps, max_steps)
    _check_frac("distractor_frac", distractor_frac)
    _check_frac("zh_frac", zh_frac)
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not isinstance(source, str) or not re.fullmatch(r"[A-Za-z0-9_.]+", source):
        raise ValueError(
            f"source must be a short name of letters, digits, '_' or '.', got {source!r}"
        )
    out = []
    orders: dict[int, list[str]] = {}
    for i in range(n):
        idx = start_index + i
        block = idx // len(fams)
        if block not in orders:
            order = list(fams)
            random.Random(f"mathlab.gen.order:{seed}:{block}").shuffle(order)
            orders = {block: order}
        family = orders[block][idx % len(fams)]
        rng = random.Random(f"mathlab.gen:{seed}:{idx}")
        steps = rng.randint(min_steps, max_steps)
        lang = "zh" if rng.random() < zh_frac else "en"
        distractor = rng.random() < distractor_frac
        out.append(_make(family, steps, lang, distractor, rng, f"{source}-{idx}", source, split))
    return out
