"""Evolution operators that edit a generated problem's program, so every child's solution
and answer are exact by construction (the symbolic backend of 01_evolve).

Each operator turns one parent :class:`~mathlab.data.records.Problem` from
:mod:`mathlab.data.generator` (it needs ``meta.program`` and ``meta.surface``) into child
problems; :data:`OPERATORS` lists them with their paper and direction:

===============  ===========  =========  ===================================================
operator         paper        direction  what it does
===============  ===========  =========  ===================================================
add_constraint   WizardMath   up         one more condition on the answer (a clause, one step)
deepen           WizardMath   up         same family, one more step, new numbers
downward         WizardMath   down       same family, one step fewer (1 step: another family)
breadth          WizardMath   breadth    a rarer family, same number of steps
mutate           KwaiYiiMath  breadth    same family and steps, new context and numbers
decompose        KwaiYiiMath  depth      the same problem as chained sub-questions
fobar            MetaMath     backward   an input masked as x, the answer given (FOBAR)
sv               MetaMath     backward   the same, the answer stated as a fact (self-verification)
===============  ===========  =========  ===================================================

:func:`evolve` applies one operator to every parent and eliminates children with the shared
rules of :mod:`mathlab.evolve.eliminate` (the text rules, ``not_exact`` when
:func:`check_exact` fails, ``duplicate`` for a repeat of an earlier child). A parent an
operator cannot take (a Chinese parent for ``add_constraint``, a 6-step parent for
``deepen``, no maskable input for ``fobar``) is skipped and counted, not eliminated.

>>> from mathlab.data.generator import generate_problems
>>> parents = generate_problems(8, seed=0, min_steps=2, max_steps=2)
>>> result = evolve(parents, "deepen", seed=0)
>>> result.counts()["kept"], {c.meta["steps"] for c in result.kept}
(8, {3})
>>> all(check_exact(c) for c in result.kept), result.kept[0].id
(True, 'gen-0~deepen')
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any, NamedTuple

from mathlab.calculator import evaluate, find_annotations
from mathlab.data.generator import FAMILIES, MAX_STEPS, generate_problem
from mathlab.data.program import (
    execute_program,
    fill_markers,
    fmt,
    join_sentences,
    number_json,
    program_values,
    substitute,
)
from mathlab.data.records import Problem
from mathlab.data.solutions import program_key
from mathlab.data.variants import SV_ASK, backward_variant
from mathlab.evolve.constraints import NoClause, constrain
from mathlab.evolve.eliminate import EvolveResult, mark, text_reason
from mathlab.evolve.phrasing import statement, sub_questions

__all__ = [
    "OPERATORS",
    "EvolveResult",
    "Operator",
    "Skip",
    "check_exact",
    "evolve",
    "exactness_errors",
]

DECOMPOSE_LEAD = "Answer these in order:"


class Skip(Exception):
    """An operator cannot take this parent; ``reason`` names why (counted by :func:`evolve`)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Operator(NamedTuple):
    fn: Callable[..., list[Problem]]
    paper: str
    direction: str
    description: str


def _meta(parent: Problem) -> dict[str, Any]:
    meta = parent.meta or {}
    if "program" not in meta or "surface" not in meta:
        raise Skip("not_generated")
    return meta


def _rng(seed: int | str, parent: Problem, op: str) -> random.Random:
    return random.Random(f"mathlab.evolve:{seed}:{parent.id}:{op}")


def _child(
    parent: Problem, op: str, question: str, answer: str, solution: str, meta: dict
) -> Problem:
    """A child row: id ``<parent>~<op>``, source ``evolve``, the parent's split, and the
    evolution fields of ``meta`` filled in."""
    paper, direction = OPERATORS[op].paper, OPERATORS[op].direction
    full = {
        **meta,
        "parent_id": parent.id,
        "evolve_op": op,
        "backend": "symbolic",
        "eliminated_reason": None,
        "paper": paper,
        "direction": direction,
    }
    return Problem(f"{parent.id}~{op}", question, answer, solution, "evolve", parent.split, full)


def _problem_meta(meta: dict) -> dict:
    keys = ("family", "steps", "lang", "answer_kind", "program", "surface", "template")
    return {k: json.loads(json.dumps(meta[k])) for k in keys if k in meta}


def _generated(parent: Problem, op: str, family: str, steps: int, seed: int | str) -> Problem:
    """A fresh generated problem as the child of ``parent`` (deepen, downward, breadth, mutate)."""
    lang = parent.meta.get("lang", "en")
    try:
        g = generate_problem(family, steps, seed=f"{seed}:{parent.id}:{op}", lang=lang)
    except RuntimeError:
        raise Skip("no_program") from None
    meta = {**_problem_meta(g.meta), "distractor": False}
    return _child(parent, op, g.question, g.answer, g.solution, meta)


# --------------------------------------------------------------------------- operators
def add_constraint(parent: Problem, seed: int | str, **_: Any) -> list[Problem]:
    """One more condition on the answer (:mod:`mathlab.evolve.constraints`); English only."""
    meta = _meta(parent)
    if meta.get("lang", "en") != "en":
        raise Skip("lang")
    sentences = meta["surface"]["sentences"]
    try:
        parts = constrain(
            meta["program"],
            sentences,
            parent.question,
            parent.solution,
            meta["family"],
            _rng(seed, parent, "add_constraint"),
        )
    except NoClause:
        raise Skip("no_clause") from None
    program, values = parts["program"], parts["values"]
    words = set(meta["surface"]["words"])
    question = join_sentences(
        [fill_markers(s, values, program["kinds"], "en", words) for s in parts["sentences"]], "en"
    )
    answer = fmt(values[program["answer"]])
    lines = parent.solution.splitlines()[:-1] + [parts["line"], f"#### {answer}"]
    new_meta = {
        **_problem_meta(meta),
        "steps": len(program["steps"]),
        "program": program,
        "surface": {**meta["surface"], "sentences": parts["sentences"]},
        "clause": parts["clause"],
    }
    return [_child(parent, "add_constraint", question, answer, "\n".join(lines), new_meta)]


def deepen(parent: Problem, seed: int | str, **_: Any) -> list[Problem]:
    """Same family, one more step (up to 6), new numbers."""
    meta = _meta(parent)
    if meta["steps"] >= MAX_STEPS:
        raise Skip("max_steps")
    return [_generated(parent, "deepen", meta["family"], meta["steps"] + 1, seed)]


def downward(
    parent: Problem, seed: int | str, families: list[str] | None = None, **_: Any
) -> list[Problem]:
    """Same family, one step fewer; a 1-step parent gets a 1-step problem of another family
    (one of ``families``, default all)."""
    meta = _meta(parent)
    if meta["steps"] > 1:
        return [_generated(parent, "downward", meta["family"], meta["steps"] - 1, seed)]
    others = [f for f in families or FAMILIES if f != meta["family"]]
    if not others:
        raise Skip("no_family")
    family = _rng(seed, parent, "downward").choice(others)
    return [_generated(parent, "downward", family, 1, seed)]


def breadth(
    parent: Problem,
    seed: int | str,
    family_counts: dict[str, int] | None = None,
    families: list[str] | None = None,
    **_: Any,
) -> list[Problem]:
    """A family other than the parent's, among the least represented in ``family_counts``
    (ties drawn at random), with the same number of steps. The chosen family's count goes
    up by one, so over a run the children fill the rarest families first."""
    meta = _meta(parent)
    counts = family_counts if family_counts is not None else {}
    others = [f for f in families or FAMILIES if f != meta["family"]]
    if not others:
        raise Skip("no_family")
    least = min(counts.get(f, 0) for f in others)
    family = _rng(seed, parent, "breadth").choice([f for f in others if counts.get(f, 0) == least])
    counts[family] = counts.get(family, 0) + 1
    return [_generated(parent, "breadth", family, meta["steps"], seed)]


def mutate(parent: Problem, seed: int | str, **_: Any) -> list[Problem]:
    """Same family and number of steps, a new context (names, things, sentences) and numbers."""
    meta = _meta(parent)
    return [_generated(parent, "mutate", meta["family"], meta["steps"], seed)]


def _bare_question(sentence: str) -> str | None:
    """``If she gave 3 away, how many are left?`` -> ``How many are left?``"""
    m = re.match(r"If .+?, ((?:how|what|find|calculate)\b.*)$", sentence)
    return m.group(1)[0].upper() + m.group(1)[1:] if m else None


def decompose(parent: Problem, seed: int | str, **_: Any) -> list[Problem]:
    """The same problem with explicit sub-questions, one per intermediate step, whose
    answers chain; the solution answers each in order (the parent's annotated lines)."""
    meta = _meta(parent)
    if meta.get("lang", "en") != "en":
        raise Skip("lang")
    program = meta["program"]
    if len(program["steps"]) < 2:
        raise Skip("one_step")
    values, kinds = program_values(program)
    words = set(meta["surface"]["words"])
    filled = [fill_markers(s, values, kinds, "en", words) for s in meta["surface"]["sentences"]]
    lines = parent.solution.splitlines()[:-1]
    subs = sub_questions(program, meta["family"], lines)
    final = _bare_question(filled[-1]) if filled[-1].startswith("If ") else None
    body = filled if final else filled[:-1]
    parts = [*subs, final or filled[-1]]
    numbered = " ".join(f"({i}) {q}" for i, q in enumerate(parts, 1))
    question = join_sentences([*body, f"{DECOMPOSE_LEAD} {numbered}"], "en")
    solution = "\n".join(
        [*(f"({i}) {line}" for i, line in enumerate(lines, 1)), f"#### {parent.answer}"]
    )
    new_meta = {**_problem_meta(meta), "sub_questions": parts}
    return [_child(parent, "decompose", question, parent.answer, solution, new_meta)]


def _backward(parent: Problem, seed: int | str) -> Problem:
    _meta(parent)
    try:
        return backward_variant(parent, seed)
    except ValueError:
        raise Skip("not_maskable") from None


def fobar(parent: Problem, seed: int | str, **_: Any) -> list[Problem]:
    """MetaMath's FOBAR question (:func:`mathlab.data.variants.backward_variant`)."""
    b = _backward(parent, seed)
    meta = {k: v for k, v in b.meta.items() if k not in ("parent_id", "evolve_op")}
    return [_child(parent, "fobar", b.question, b.answer, b.solution, meta)]


def sv(parent: Problem, seed: int | str, **_: Any) -> list[Problem]:
    """MetaMath's self-verification question: the masked problem, its answer stated as a
    fact, then ``What is the value of unknown variable x?``; the same solution for x."""
    b = _backward(parent, seed)
    lang = b.meta["lang"]
    parent_program = b.meta["backward"]["parent_program"]
    values, kinds = program_values(parent_program)
    masked, words = b.meta["surface"]["masked"], set(b.meta["surface"]["words"])
    filled = [
        fill_markers(s, values, kinds, lang, words, masked=masked)
        for s in b.meta["surface"]["sentences"]
    ]
    answer = fill_markers(f"\u27e6{parent_program['answer']}\u27e7", values, kinds, lang)
    if lang == "en":
        kind = kinds[parent_program["answer"]]
        fact, declarative = statement(filled[-1], answer, kind, " ".join(filled))
    else:
        fact, declarative = f"已知“{filled[-1]}”的答案是{answer}。", False
    question = join_sentences([*filled[:-1], fact, SV_ASK[lang]], lang)
    meta = {k: v for k, v in b.meta.items() if k not in ("parent_id", "evolve_op")}
    meta["sv_form"] = "declarative" if declarative else "quoted"
    return [_child(parent, "sv", question, b.answer, b.solution, meta)]


# fmt: off
OPERATORS: dict[str, Operator] = {
    "add_constraint": Operator(add_constraint, "WizardMath", "up", "one more condition on the answer: a clause and one step"),
    "deepen": Operator(deepen, "WizardMath", "up", "same family, one more reasoning step, new numbers"),
    "downward": Operator(downward, "WizardMath", "down", "same family, one step fewer (1 step: another family)"),
    "breadth": Operator(breadth, "WizardMath", "breadth", "a rarer family, same number of steps"),
    "mutate": Operator(mutate, "KwaiYiiMath", "breadth", "same family and steps, new context and numbers"),
    "decompose": Operator(decompose, "KwaiYiiMath", "depth", "the same problem as chained sub-questions"),
    "fobar": Operator(fobar, "MetaMath", "backward", "an input masked as x, the answer given (FOBAR)"),
    "sv": Operator(sv, "MetaMath", "backward", "the masked problem with its answer stated as a fact"),
}
# fmt: on


# --------------------------------------------------------------------------- exactness
def exactness_errors(problem: Problem) -> list[str]:
    """Why ``problem`` is not exact (empty when it is): one ``<<expr=value>>`` annotation
    per program step, each recomputing and equal to the step with its numbers substituted;
    the final ``#### x``, the answer and the program's value all equal; for a backward
    child, the parent program with x in place of the masked input gives the stated answer."""
    meta = problem.meta or {}
    program = meta.get("program")
    if not program:
        return ["no meta.program"]
    try:
        value = Fraction(execute_program(program))
        values, _ = program_values(program)
    except (ValueError, ArithmeticError) as exc:
        return [f"program: {exc}"]
    errors = []
    annotations = find_annotations(problem.solution)
    if len(annotations) != len(program["steps"]):
        errors.append(f"{len(annotations)} annotations for {len(program['steps'])} steps")
    for a, step in zip(annotations, program["steps"], strict=False):
        try:
            right = Fraction(evaluate(a.expr)) == Fraction(evaluate(a.value_text))
        except ValueError:
            right = False
        if not right:
            errors.append(f"annotation <<{a.expr}={a.value_text}>> does not recompute")
        if a.expr.replace(" ", "") != substitute(step["expr"], values):
            errors.append(f"annotation {a.expr!r} is not step {step['var']} ({step['expr']})")
    finals = re.findall(r"^####\s*(.+?)\s*$", problem.solution, re.MULTILINE)
    if not finals or finals[-1] != problem.answer or problem.answer != fmt(value):
        errors.append(f"final answer {finals[-1:]} / {problem.answer!r} is not {fmt(value)}")
    if "backward" in meta:
        errors += _backward_errors(meta, program, value)
    return errors


def _backward_errors(meta: dict, program: dict, x: Fraction) -> list[str]:
    bw = meta["backward"]
    check = json.loads(json.dumps(bw["parent_program"]))
    check["inputs"][bw["masked"]] = number_json(x)
    given = Fraction(str(program["inputs"]["answer_given"]))
    if Fraction(execute_program(check)) != given or Fraction(str(bw["masked_value"])) != x:
        return [f"x = {fmt(x)} in the parent program does not give {fmt(given)}"]
    return []


def _errors(problem: Problem) -> list[str]:
    try:
        return exactness_errors(problem)
    except Exception as exc:  # a malformed row is not exact
        return [f"{type(exc).__name__}: {exc}"]


def check_exact(problem: Problem) -> bool:
    """Whether ``problem``'s solution and answer recompute exactly (:func:`exactness_errors`)."""
    return not _errors(problem)


# --------------------------------------------------------------------------- evolve
def _check_op(op: str) -> Operator:
    if op not in OPERATORS:
        raise ValueError(
            f"unknown evolution operator {op!r}; choose one of: {', '.join(OPERATORS)}"
        )
    return OPERATORS[op]


def evolve(parents: Iterable[Problem], op: str, seed: int | str, **kw: Any) -> EvolveResult:
    """Apply operator ``op`` to every parent, then eliminate (first rule that applies): the
    text rules against the parent (:func:`~mathlab.evolve.eliminate.text_reason`),
    ``not_exact`` (:func:`check_exact`), ``duplicate`` (the same program and question as an
    earlier child). Deterministic in (parents, op, seed, kw).

    ``breadth`` and ``downward`` choose new families among ``families`` (default: the
    families present in ``parents``, so a held-out family never leaks in); ``breadth`` counts
    ``family_counts`` (default: the parents' own) and fills the rarest first.
    """
    operator = _check_op(op)
    parents = list(parents)
    present = Counter(p.meta.get("family") for p in parents if p.meta)
    if op in ("breadth", "downward"):
        kw.setdefault("families", [f for f in FAMILIES if f in present])
    if op == "breadth":
        kw["family_counts"] = dict(kw.get("family_counts") or present)
    result = EvolveResult(op, len(parents))
    seen: set[tuple[str, str]] = set()
    skipped: Counter[str] = Counter()
    for parent in parents:
        try:
            made = operator.fn(parent, seed, **kw)
        except Skip as skip:
            skipped[skip.reason] += 1
            continue
        for child in made:
            reason, detail = text_reason(parent.question, child.question), None
            if reason is None and not check_exact(child):
                reason, detail = "not_exact", "; ".join(_errors(child))[:500]
            key = (program_key(child), child.question)
            if reason is None and key in seen:
                reason = "duplicate"
            seen.add(key)
            result.children.append(mark(child, reason, detail))
    result.skipped = dict(skipped)
    return result
