"""Variants of a generated problem that keep its program exact (used for robustness sets).

:func:`distractor_variant` (GSM-IC): the same problem with an irrelevant sentence, a
number about someone else, before the question; same answer and solution.

:func:`backward_variant` (MetaMath FOBAR): one input becomes ``x``, the answer is given
and the question asks for ``x``. Only an input the question states once and on which the
answer depends linearly (``a*x + b``) is masked, so the solve-for-``x`` solution, with
calculator annotations, and its program are exact.

Both need the ``meta["program"]`` and ``meta["surface"]`` that
:mod:`mathlab.data.generator` writes.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import random
from collections import Counter
from fractions import Fraction
from typing import Any

from mathlab.calculator import evaluate
from mathlab.data import lexicon
from mathlab.data.program import (
    execute_program,
    fill_markers,
    fmt,
    join_sentences,
    markers_in,
    number_json,
    program_values,
)
from mathlab.data.records import Problem

# MetaMath's backward question endings: FOBAR gives the answer and asks for x; SV states the
# answer as a fact first and then asks (01_evolve's symbolic and LLM backends use both).
FOBAR = {
    "en": "If we know the answer to the above question is {ans}, what is the value of unknown variable x?",
    "zh": "如果已知上面问题的答案是{ans}，那么未知数x的值是多少？",
}
SV_ASK = {"en": "What is the value of unknown variable x?", "zh": "未知数x的值是多少？"}
# The words of a backward solution: two opening lines, then "Then |a|x = ...", "So x = ...".
_SOLVE = {
    "en": {
        "intro": (
            "Working through the problem with x in place of the unknown number, the answer is {lhs}.",
            "We know the answer is {ans}, so {lhs} = {ans}.",
        ),
        "then": "Then",
        "so": "So",
        "stop": ".",
    },
    "zh": {
        "intro": (
            "把未知数记为x，按题目一步步计算，答案可以写成{lhs}。",
            "已知答案是{ans}，所以{lhs} = {ans}。",
        ),
        "then": "移项得到",
        "so": "所以",
        "stop": "。",
    },
}


def _require_program(problem: Problem) -> dict[str, Any]:
    meta = problem.meta or {}
    if "program" not in meta or "surface" not in meta:
        raise ValueError(
            f"problem {problem.id!r} has no meta['program'] / meta['surface']: only generated "
            "problems can be transformed exactly"
        )
    return meta


# --------------------------------------------------------------------------- distractors
def _distractor_sentence(
    rng: random.Random, lang: str, avoid_names: set[str], avoid_numbers: set
) -> str:
    names = [n for n, _ in lexicon.names(lang) if n not in avoid_names]
    q = rng.choice(names)
    n = rng.choice([k for k in range(2, 100) if k not in avoid_numbers])
    noun = rng.choice(lexicon.NOUNS)
    template = rng.choice(lexicon.DISTRACTORS[lang])
    o = noun.zh if lang == "zh" else noun.pl
    return template.format(q=q, n=n, o=o, cl=noun.cl)


def _names_in(text: str, lang: str) -> set[str]:
    return {n for n, _ in lexicon.names(lang) if n in text}


def add_distractor(problem: Problem, rng: random.Random, keep_id: bool) -> Problem:
    """``problem`` with a distractor sentence drawn from ``rng`` before its question;
    ``keep_id``: the same id (a generated problem), else ``<id>-dis`` with a parent_id."""
    meta = _require_program(problem)
    lang = meta["lang"]
    program = meta["program"]
    values, kinds = program_values(program)
    numbers = {int(v) for v in values.values() if v.denominator == 1 and v < 1000}
    names = _names_in(problem.question, lang)
    sentence = _distractor_sentence(rng, lang, names, numbers)
    sentences = list(meta["surface"]["sentences"])
    sentences.insert(len(sentences) - 1, sentence)
    words = set(meta["surface"]["words"])
    question = join_sentences(
        [fill_markers(s, values, kinds, lang, words) for s in sentences], lang
    )
    new_meta = json.loads(json.dumps(meta))
    new_meta["distractor"] = sentence
    new_meta["surface"]["sentences"] = sentences
    if not keep_id:
        new_meta["parent_id"] = problem.id
        new_meta["evolve_op"] = "distractor"
    new_id = problem.id if keep_id else f"{problem.id}-dis"
    return dataclasses.replace(problem, id=new_id, question=question, meta=new_meta)


def distractor_variant(problem: Problem, seed: int | str) -> Problem:
    """The same problem with an irrelevant sentence (a number about someone else) before
    the question sentence (GSM-IC); same answer and solution. ``meta["distractor"]`` holds
    the sentence, ``meta["parent_id"]`` the original id."""
    rng = random.Random(f"mathlab.gen.distractor:{seed}:{problem.id}")
    return add_distractor(problem, rng, keep_id=False)


# --------------------------------------------------------------------------- affine algebra
def _affine(
    expr: str, env: dict[str, tuple[Fraction, Fraction]]
) -> tuple[Fraction, Fraction] | None:
    """``expr`` as a*x + b over an environment of affine values, or None when not affine."""

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return Fraction(0), Fraction(repr(node.value)) if isinstance(
                node.value, float
            ) else Fraction(node.value)
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            r = walk(node.operand)
            return None if r is None else (-r[0], -r[1])
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            (a1, b1), (a2, b2) = left, right
            if isinstance(node.op, ast.Add):
                return a1 + a2, b1 + b2
            if isinstance(node.op, ast.Sub):
                return a1 - a2, b1 - b2
            if isinstance(node.op, ast.Mult):
                if a1 and a2:
                    return None
                return (a1 * b2 + a2 * b1, b1 * b2)
            if isinstance(node.op, ast.Div):
                if a2 or b2 == 0:
                    return None
                return a1 / b2, b1 / b2
        raise ValueError(f"unsupported expression {expr!r}")

    return walk(ast.parse(expr, mode="eval"))


def _nice(v: Fraction) -> bool:
    return (v * 100).denominator == 1


# How a positive coefficient q is written, by its form: times x (``12x``, ``x/4``,
# ``0.75x``, ``2x/3``) and as a divisor in a calculator expression (``/12``, ``*4``,
# ``/0.75``, ``*3/2``).
_TIMES_X = {"whole": "{q}x", "unit": "x/{d}", "decimal": "{f}x", "ratio": "{n}x/{d}"}
_DIVIDE_BY = {"whole": "/{q}", "unit": "*{d}", "decimal": "/{f}", "ratio": "*{d}/{n}"}


def _coefficient(q: Fraction, forms: dict[str, str]) -> str:
    """``q`` written with the template of its form: whole, 1/d, a short decimal, n/d."""
    if q.denominator == 1:
        form = "whole"
    elif q.numerator == 1:
        form = "unit"
    elif (q * 10000).denominator == 1:
        form = "decimal"
    else:
        form = "ratio"
    return forms[form].format(q=q, n=q.numerator, d=q.denominator, f=fmt(q))


def _affine_text(a: Fraction, b: Fraction) -> str:
    """``12x - 5``, ``x/2 + 3``, ``81 - 0.81x`` (a negative slope is written after the constant)."""
    if a < 0:
        return f"{fmt(b)} - {_affine_text(-a, Fraction(0))}"
    s = "x" if a == 1 else _coefficient(a, _TIMES_X)
    if b > 0:
        s += f" + {fmt(b)}"
    elif b < 0:
        s += f" - {fmt(-b)}"
    return s


# --------------------------------------------------------------------------- backward (FOBAR)
def _answer_in_x(
    program: dict[str, Any], values: dict[str, Fraction], var: str
) -> tuple[Fraction, Fraction] | None:
    """The answer as ``a*x + b`` with input ``var`` as x (the others fixed), or None when
    some step is not affine in x."""
    env = {k: (Fraction(0), v) for k, v in values.items() if k in program["inputs"]}
    env[var] = (Fraction(1), Fraction(0))
    for step in program["steps"]:
        r = _affine(step["expr"], env)
        if r is None:
            return None
        env[step["var"]] = r
    return env[program["answer"]]


def _maskable_inputs(
    program: dict[str, Any],
    values: dict[str, Fraction],
    kinds: dict[str, str],
    sentences: list[str],
) -> list[tuple[str, Fraction, Fraction]]:
    """(input, a, b) for every input the question states once (not a multiplier) on which
    the answer depends as a*x + b (a != 0, not x itself), with x = (answer - b) / a exact
    and b and answer - b in cents."""
    counts = Counter(var for s in sentences for var in markers_in(s))
    answer = values[program["answer"]]
    candidates = []
    for var in program["inputs"]:
        if counts.get(var) != 1 or kinds.get(var) == "mult":
            continue
        affine = _answer_in_x(program, values, var)
        if affine is None:
            continue
        a, b = affine
        if a == 0 or (a == 1 and b == 0):
            continue
        rhs = answer - b
        if not (_nice(b) and _nice(rhs) and rhs / a == values[var]):
            continue
        candidates.append((var, a, b))
    return candidates


def _annotated(numeric: str, value: Fraction) -> str:
    return f"{numeric}=<<{numeric}={fmt(value)}>>{fmt(value)}"


def _move_constant(a: Fraction, b: Fraction, answer: Fraction) -> tuple[Fraction, str, str]:
    """a*x + b = answer -> |a|*x = rhs: (rhs, its program expression, its numbers)."""
    ans_text = fmt(answer)
    if a < 0:
        return b - answer, f"{fmt(b)}-answer_given", f"{fmt(b)}-{ans_text}"
    if b > 0:
        return answer - b, f"answer_given-{fmt(b)}", f"{ans_text}-{fmt(b)}"
    return answer - b, f"answer_given+{fmt(-b)}", f"{ans_text}+{fmt(-b)}"


def _solve_for_x(
    a: Fraction, b: Fraction, answer: Fraction, x: Fraction, lang: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """The solution of a*x + b = answer: its lines and its program steps (``rhs``, ``x``)."""
    words = _SOLVE[lang]
    lhs = _affine_text(a, b)
    lines = [line.format(lhs=lhs, ans=fmt(answer)) for line in words["intro"]]
    steps: list[dict[str, Any]] = []
    pos = abs(a)
    ax = _affine_text(pos, Fraction(0))
    cur_expr, cur_val = "answer_given", answer
    if b != 0:
        rhs_val, expr, numeric = _move_constant(a, b, answer)
        lines.append(f"{words['then']} {ax} = {_annotated(numeric, rhs_val)}{words['stop']}")
        steps.append({"var": "rhs", "expr": expr, "value": number_json(rhs_val)})
        cur_expr, cur_val = "rhs", rhs_val
    if pos != 1:
        tail = _coefficient(pos, _DIVIDE_BY)
        numeric = f"{fmt(cur_val)}{tail}"
        if Fraction(evaluate(numeric)) != x:
            raise AssertionError("backward arithmetic does not check out")
        lines.append(f"{words['so']} x = {_annotated(numeric, x)}{words['stop']}")
        steps.append({"var": "x", "expr": f"{cur_expr}{tail}", "value": number_json(x)})
    else:
        steps[-1]["var"] = "x"
        lines[-1] = lines[-1].replace(f"{ax} = ", "x = ", 1)
    return lines, steps


def _solve_program(
    steps: list[dict[str, Any]], answer: Fraction, x: Fraction, answer_kind: str, x_kind: str
) -> dict[str, Any]:
    """The program that computes x from the given answer, checked by running it."""
    program = {
        "inputs": {"answer_given": number_json(answer)},
        "steps": steps,
        "answer": "x",
        "kinds": {"answer_given": answer_kind, "x": x_kind},
    }
    if any(st["var"] == "rhs" for st in steps):
        program["kinds"]["rhs"] = answer_kind
    if Fraction(execute_program(program)) != x:
        raise AssertionError("backward program does not give the masked input")
    return program


def backward_variant(problem: Problem, seed: int | str) -> Problem:
    """MetaMath's FOBAR question: one input becomes ``x``, the answer is given, find ``x``.

    Only inputs that the question states once as a number and on which the answer depends
    linearly (a*x + b, a != 0) are masked, so ``x = (answer - b) / a`` exactly; the result
    is checked by re-running the original program with ``x``. The new solution solves for
    ``x`` with calculator annotations; its ``meta["program"]`` computes ``x`` from the
    given answer, and ``meta["backward"]`` records the masked input and the parent program.
    Raises ValueError when no input can be masked.
    """
    meta = _require_program(problem)
    lang = meta["lang"]
    program = meta["program"]
    values, kinds = program_values(program)
    sentences = meta["surface"]["sentences"]
    candidates = _maskable_inputs(program, values, kinds, sentences)
    if not candidates:
        raise ValueError(f"problem {problem.id!r}: no input can be masked for a backward question")
    rng = random.Random(f"mathlab.gen.backward:{seed}:{problem.id}")
    var, a, b = rng.choice(candidates)
    x, answer = values[var], values[program["answer"]]
    # Check exactly: the original program with x in place gives the original answer.
    check = json.loads(json.dumps(program))
    check["inputs"][var] = number_json(x)
    if Fraction(execute_program(check)) != answer:
        raise AssertionError(f"backward check failed for {problem.id!r}")

    words = set(meta["surface"]["words"])
    body = [fill_markers(s, values, kinds, lang, words, masked=var) for s in sentences]
    question = join_sentences(body + [FOBAR[lang].format(ans=fmt(answer))], lang)
    lines, steps = _solve_for_x(a, b, answer, x, lang)
    new_program = _solve_program(steps, answer, x, kinds[program["answer"]], kinds[var])
    new_meta = json.loads(json.dumps(meta))
    new_meta.update(
        steps=len(steps),
        program=new_program,
        answer_kind=kinds[var],
        parent_id=problem.id,
        evolve_op="fobar",
        backward={
            "masked": var,
            "masked_value": number_json(x),
            "affine": [fmt(a), fmt(b)],
            "parent_program": program,
        },
    )
    new_meta["surface"] = {"sentences": sentences, "words": sorted(words), "masked": var}
    return dataclasses.replace(
        problem,
        id=f"{problem.id}-fobar",
        question=question,
        answer=fmt(x),
        solution="\n".join(lines + [f"#### {fmt(x)}"]),
        meta=new_meta,
    )
