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
>>> execute_program(ps[0].meta["program"]) == Fraction(ps[0].answer)
True

Solution renderings for the SFT data-format ablation: :func:`render_solution` (a problem
or a bare program) and :func:`convert_solution_text` (any GSM8K-style solution text, e.g.
a real GSM8K row): ``gsm8k`` (annotations, ``#### N``), ``answer_is`` (annotations,
``The answer is: N``), ``plain`` (no annotations, ``The answer is: N``) and
``answer_only``. Chinese problems end with ``The answer is: N`` too (not ``答案是 N``), so
every style has one final-answer format that :func:`mathlab.answers.extract_answer`
reads first.

Variants that keep the program exact: :func:`backward_variant` (MetaMath FOBAR: one
input becomes ``x``, the answer is given, the question asks for ``x``) and
:func:`distractor_variant` (GSM-IC: an irrelevant sentence with a number, same answer).
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import random
import re
from fractions import Fraction
from typing import Any

from mathlab.calculator import evaluate
from mathlab.data import lexicon
from mathlab.data.families import BUILDERS
from mathlab.data.program import (
    INTEGER_KINDS,
    Ctx,
    Retry,
    execute_program,
    fill_markers,
    fmt,
    markers_in,
    number_json,
    substitute,
)
from mathlab.data.records import SPLITS, Problem

__all__ = [
    "DEFAULT_HELDOUT",
    "FAMILIES",
    "INTEGER_KINDS",
    "LANGS",
    "MAX_STEPS",
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
STYLES = ("gsm8k", "answer_is", "plain", "answer_only")
ANSWER_IS = "The answer is: "
MAX_TRIES = 1000

_FOBAR = {
    "en": "If we know the answer to the above question is {ans}, what is the value of unknown variable x?",
    "zh": "如果已知上面问题的答案是{ans}，那么未知数x的值是多少？",
}


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


def _join(sentences: list[str], lang: str) -> str:
    return ("" if lang == "zh" else " ").join(s for s in sentences if s)


def _program_json(c: Ctx) -> dict[str, Any]:
    return {
        "inputs": {k: number_json(v) for k, v in c.inputs.items()},
        "steps": [
            {"var": s["var"], "expr": s["expr"], "value": number_json(s["value"])} for s in c.steps
        ],
        "answer": c.steps[-1]["var"],
        "kinds": dict(c.kinds),
    }


def _values_kinds(program: dict[str, Any]) -> tuple[dict[str, Fraction], dict[str, str]]:
    values = {
        k: Fraction(repr(v)) if isinstance(v, float) else Fraction(v)
        for k, v in program["inputs"].items()
    }
    for s in program["steps"]:
        v = s["value"]
        values[s["var"]] = Fraction(repr(v)) if isinstance(v, float) else Fraction(v)
    return values, program["kinds"]


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
    values, kinds = _values_kinds(program)
    words = sorted(c.words)
    question = _join([fill_markers(s, values, kinds, lang, set(words)) for s in sentences], lang)
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
        problem = _add_distractor(problem, rng, keep_id=True)
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


# ---------------------------------------------------------------------------------------
# Variants
# ---------------------------------------------------------------------------------------
def _require_program(problem: Problem) -> dict[str, Any]:
    meta = problem.meta or {}
    if "program" not in meta or "surface" not in meta:
        raise ValueError(
            f"problem {problem.id!r} has no meta['program'] / meta['surface']: only generated "
            "problems can be transformed exactly"
        )
    return meta


def _add_distractor(problem: Problem, rng: random.Random, keep_id: bool) -> Problem:
    meta = _require_program(problem)
    lang = meta["lang"]
    program = meta["program"]
    values, kinds = _values_kinds(program)
    numbers = {int(v) for v in values.values() if v.denominator == 1 and v < 1000}
    names = _names_in(problem.question, lang)
    sentence = _distractor_sentence(rng, lang, names, numbers)
    sentences = list(meta["surface"]["sentences"])
    sentences.insert(len(sentences) - 1, sentence)
    words = set(meta["surface"]["words"])
    question = _join([fill_markers(s, values, kinds, lang, words) for s in sentences], lang)
    new_meta = json.loads(json.dumps(meta))
    new_meta["distractor"] = sentence
    new_meta["surface"]["sentences"] = sentences
    if not keep_id:
        new_meta["parent_id"] = problem.id
        new_meta["evolve_op"] = "distractor"
    return Problem(
        id=problem.id if keep_id else f"{problem.id}-dis",
        question=question,
        answer=problem.answer,
        solution=problem.solution,
        source=problem.source,
        split=problem.split,
        meta=new_meta,
    )


def distractor_variant(problem: Problem, seed: int | str) -> Problem:
    """The same problem with an irrelevant sentence (a number about someone else) before
    the question sentence (GSM-IC); same answer and solution. ``meta["distractor"]`` holds
    the sentence, ``meta["parent_id"]`` the original id."""
    rng = random.Random(f"mathlab.gen.distractor:{seed}:{problem.id}")
    return _add_distractor(problem, rng, keep_id=False)


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


def _affine_text(a: Fraction, b: Fraction) -> str:
    """``12x - 5``, ``x/2 + 3``, ``81 - 0.81x`` (a negative slope is written after the constant)."""
    if a < 0:
        return f"{fmt(b)} - {_affine_text(-a, Fraction(0))}"
    if a == 1:
        s = "x"
    elif a.denominator == 1:
        s = f"{a}x"
    elif a.numerator == 1:
        s = f"x/{a.denominator}"
    elif (a * 10000).denominator == 1:
        s = f"{fmt(a)}x"
    else:
        s = f"{a.numerator}x/{a.denominator}"
    if b > 0:
        s += f" + {fmt(b)}"
    elif b < 0:
        s += f" - {fmt(-b)}"
    return s


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
    values, kinds = _values_kinds(program)
    sentences = meta["surface"]["sentences"]
    counts: dict[str, int] = {}
    for s in sentences:
        for var in markers_in(s):
            counts[var] = counts.get(var, 0) + 1
    answer = values[program["answer"]]
    candidates = []
    for var in program["inputs"]:
        if counts.get(var) != 1 or kinds.get(var) == "mult":
            continue
        env = {k: (Fraction(0), v) for k, v in values.items() if k in program["inputs"]}
        env[var] = (Fraction(1), Fraction(0))
        ok = True
        for step in program["steps"]:
            r = _affine(step["expr"], env)
            if r is None:
                ok = False
                break
            env[step["var"]] = r
        if not ok:
            continue
        a, b = env[program["answer"]]
        if a == 0 or (a == 1 and b == 0):
            continue
        rhs = answer - b
        if not (_nice(b) and _nice(rhs) and rhs / a == values[var]):
            continue
        candidates.append((var, a, b))
    if not candidates:
        raise ValueError(f"problem {problem.id!r}: no input can be masked for a backward question")
    rng = random.Random(f"mathlab.gen.backward:{seed}:{problem.id}")
    var, a, b = rng.choice(candidates)
    x = values[var]
    # Check exactly: the original program with x in place gives the original answer.
    check = json.loads(json.dumps(program))
    check["inputs"][var] = number_json(x)
    if Fraction(execute_program(check)) != answer:
        raise AssertionError(f"backward check failed for {problem.id!r}")

    words = set(meta["surface"]["words"])
    body = [fill_markers(s, values, kinds, lang, words, masked=var) for s in sentences]
    ans_text = fmt(answer)
    question = _join(body + [_FOBAR[lang].format(ans=ans_text)], lang)

    lhs = _affine_text(a, b)
    zh = lang == "zh"
    stop = "。" if zh else "."
    steps_json: list[dict[str, Any]] = []
    lines = []
    if zh:
        lines.append(f"把未知数记为x，按题目一步步计算，答案可以写成{lhs}。")
        lines.append(f"已知答案是{ans_text}，所以{lhs} = {ans_text}。")
    else:
        lines.append(
            f"Working through the problem with x in place of the unknown number, the answer is {lhs}."
        )
        lines.append(f"We know the answer is {ans_text}, so {lhs} = {ans_text}.")
    # a*x + b = answer  ->  |a|*x = rhs  ->  x = rhs / |a|
    if a > 0:
        rhs_val, expr = (
            answer - b,
            (f"answer_given-{fmt(b)}" if b > 0 else f"answer_given+{fmt(-b)}"),
        )
        numeric = f"{ans_text}-{fmt(b)}" if b > 0 else f"{ans_text}+{fmt(-b)}"
    else:
        rhs_val, expr, numeric = b - answer, f"{fmt(b)}-answer_given", f"{fmt(b)}-{ans_text}"
    pos = abs(a)
    ax = _affine_text(pos, Fraction(0))
    cur_expr, cur_val = "answer_given", answer
    if b != 0:
        ann = f"{numeric}=<<{numeric}={fmt(rhs_val)}>>{fmt(rhs_val)}"
        lead = "移项得到" if zh else "Then"
        lines.append(f"{lead} {ax} = {ann}{stop}")
        steps_json.append({"var": "rhs", "expr": expr, "value": number_json(rhs_val)})
        cur_expr, cur_val = "rhs", rhs_val
    if pos != 1:
        if pos.denominator == 1:
            tail = f"/{pos}"
        elif pos.numerator == 1:
            tail = f"*{pos.denominator}"
        elif (pos * 10000).denominator == 1:
            tail = f"/{fmt(pos)}"
        else:
            tail = f"*{pos.denominator}/{pos.numerator}"
        numeric = f"{fmt(cur_val)}{tail}"
        if Fraction(evaluate(numeric)) != x:
            raise AssertionError("backward arithmetic does not check out")
        ann = f"{numeric}=<<{numeric}={fmt(x)}>>{fmt(x)}"
        lines.append(f"{'所以' if zh else 'So'} x = {ann}{stop}")
        steps_json.append({"var": "x", "expr": f"{cur_expr}{tail}", "value": number_json(x)})
    else:
        steps_json[-1]["var"] = "x"
        lines[-1] = lines[-1].replace(f"{ax} = ", "x = ", 1)
    new_program = {
        "inputs": {"answer_given": number_json(answer)},
        "steps": steps_json,
        "answer": "x",
        "kinds": {
            "answer_given": kinds[program["answer"]],
            "x": kinds[var],
        },
    }
    if any(st["var"] == "rhs" for st in steps_json):
        new_program["kinds"]["rhs"] = kinds[program["answer"]]
    if Fraction(execute_program(new_program)) != x:
        raise AssertionError("backward program does not give the masked input")
    new_meta = json.loads(json.dumps(meta))
    new_meta.update(
        steps=len(steps_json),
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
    return Problem(
        id=f"{problem.id}-fobar",
        question=question,
        answer=fmt(x),
        solution="\n".join(lines + [f"#### {fmt(x)}"]),
        source=problem.source,
        split=problem.split,
        meta=new_meta,
    )


# ---------------------------------------------------------------------------------------
# Renderings and keys
# ---------------------------------------------------------------------------------------
_ANNOTATION = re.compile(r"<<[^<>]*>>")
_HASHES = re.compile(r"^\s*####\s*(.*?)\s*$", re.MULTILINE)


def convert_solution_text(solution: str, answer: str | None, style: str) -> str:
    """Re-render a GSM8K-style solution text (``... <<a*b=c>>c ...`` then ``#### N``).

    ``gsm8k``: unchanged, with a ``#### N`` line added if missing; ``answer_is``: the
    ``#### N`` line becomes ``The answer is: N``; ``plain``: the same without the
    ``<<...>>`` annotations; ``answer_only``: just ``The answer is: N``. ``answer`` (the
    canonical answer) wins over the text's own ``####`` value; when None, that value is used.

    >>> convert_solution_text("He has 3*4=<<3*4=12>>12 pens.\\n#### 12", None, "plain")
    'He has 3*4=12 pens.\\nThe answer is: 12'
    """
    if style not in STYLES:
        raise ValueError(f"unknown solution style {style!r}; choose one of {', '.join(STYLES)}")
    if not isinstance(solution, str):
        raise ValueError(f"solution must be a string, got {type(solution).__name__}")
    matches = list(_HASHES.finditer(solution))
    final = str(answer).strip() if answer is not None else (matches[-1].group(1) if matches else "")
    if not final:
        raise ValueError("no answer: pass `answer` or give the solution a '#### N' line")
    body = solution[: matches[-1].start()] if matches else solution
    body = body.rstrip()
    if style == "answer_only":
        return f"{ANSWER_IS}{final}"
    if style == "gsm8k":
        return f"{body}\n#### {final}" if body else f"#### {final}"
    if style == "plain":
        body = _ANNOTATION.sub("", body)
    return f"{body}\n{ANSWER_IS}{final}" if body else f"{ANSWER_IS}{final}"


def render_solution(problem_or_program: Problem | dict[str, Any], style: str = "gsm8k") -> str:
    """A problem's solution in ``style`` (see :func:`convert_solution_text`).

    A bare program (``{"inputs", "steps", "answer"}``) is written one annotated line per
    step (``total = 3*12 = <<3*12=36>>36``) before the style is applied.
    """
    if isinstance(problem_or_program, Problem):
        return convert_solution_text(problem_or_program.solution, problem_or_program.answer, style)
    if not isinstance(problem_or_program, dict):
        raise ValueError("render_solution needs a Problem or a program dict")
    program = problem_or_program
    execute_program(program)
    values, _ = _values_kinds(program)
    env = {k: v for k, v in values.items() if k in program["inputs"]}
    lines = []
    for step in program["steps"]:
        numeric = substitute(step["expr"], env)
        env[step["var"]] = values[step["var"]]
        v = fmt(values[step["var"]])
        lines.append(f"{step['var'].replace('_', ' ')} = {numeric} = <<{numeric}={v}>>{v}")
    answer = fmt(values[program["answer"]])
    return convert_solution_text("\n".join(lines + [f"#### {answer}"]), answer, style)


def program_key(problem_or_program: Problem | dict[str, Any], family: str | None = None) -> str:
    """A dedup key: the family, the step structure and every number of the program.

    Two problems with the same program and numbers share a key whatever their names,
    sentences or language; any different number gives a different key.
    """
    if isinstance(problem_or_program, Problem):
        meta = problem_or_program.meta or {}
        if "program" not in meta:
            raise ValueError(f"problem {problem_or_program.id!r} has no meta['program'] to key on")
        program, family = meta["program"], meta.get("family")
    else:
        program = problem_or_program
    body = {
        "inputs": sorted(
            (k, str(Fraction(repr(v)) if isinstance(v, float) else Fraction(v)))
            for k, v in program["inputs"].items()
        ),
        "steps": [(s["var"], s["expr"].replace(" ", "")) for s in program["steps"]],
        "answer": program["answer"],
    }
    digest = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()[:20]
    return f"{family or '?'}:{digest}"
