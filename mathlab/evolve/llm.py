"""Instruction evolution with a language model: the rewriting prompts of
:mod:`mathlab.evolve.prompts` sent to any generation backend, answers verified by a vote.

Works on any :class:`~mathlab.data.records.Problem`, generated or real (a GSM8K row has no
program): the rewriter is a :class:`~mathlab.generate.Backend` (the embedded model, or an
:class:`~mathlab.generate.OpenAIBackend` in front of any OpenAI-compatible server, e.g. a
teacher served by vLLM or ``python -m mathlab.openai_server``).

* :func:`evolve_llm`: one rewriting operator over the parents. Each output is read by
  :func:`parse_rewrite` and checked by WizardLM's text rules
  (:func:`~mathlab.evolve.eliminate.text_reason`); a text already seen for this operator is a
  ``duplicate``. The survivors are solved ``k_solves`` times (``mathlab.styles.solve``, by
  the solver, default the rewriter); a child is kept only when a strict majority of the solves
  agrees on one answer (``rephrase``: and that answer is the parent's), else ``unverified``.
  A kept child's answer is the voted one and its solution an agreeing solve rewritten to end
  with ``#### answer`` (what 02_sft trains on).
* :func:`answer_augmentation` (MetaMath AnsAug): k sampled solutions per question; the
  correct ones are new rows (same question), the others stay as eliminated rows
  (``unverified``, detail ``wrong answer`` / ``no answer``), so the counts show the yield.
* :func:`fobar_text` / :func:`sv_text` (MetaMath FOBAR / SV for problems *without* a program):
  one number of the question text masked as ``x``; :func:`verify_backward` keeps a child only
  when the solves' vote for ``x`` is the masked number; :func:`evolve_backward` does both.
  Program-backed problems get exact ones from :mod:`mathlab.evolve.symbolic`.

Bad output never stops a run: an empty output, a refusal, unreadable text, an answer that
cannot be verified each eliminate one child with its reason. A request that fails
(:class:`~mathlab.generate.OpenAIError`, a timeout, a prompt too long) is retried alone and,
if it fails again, eliminates its child as ``unparseable`` (the exception as detail; a failed
*solve* makes it ``unverified``). Programming errors (TypeError, AttributeError, ...) are
raised. Eliminated rows keep what there was: their question or answer may be empty, so write
:func:`~mathlab.evolve.eliminate.kept` rows with ``write_jsonl`` and all rows as dicts.

Child rows: id ``<parent id>~<op>`` (``~answer_aug-<j>`` for AnsAug), source ``evolve``, the
parent's split; meta ``parent_id``, ``evolve_op``, ``backend`` (``llm``), ``paper``,
``direction``, ``eliminated_reason`` (+ ``eliminated_detail``), ``rewriter`` (the backend's
name), ``votes`` (each solve's answer), the parent's ``lang`` and ``parent_family``.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from mathlab.data.dedup import normalize_text
from mathlab.data.records import Problem
from mathlab.data.variants import FOBAR, SV_ASK
from mathlab.evolve.eliminate import EvolveResult, mark, text_reason
from mathlab.evolve.prompts import PROMPTS, rewrite_messages

__all__ = [
    "PROGRAMMING_ERRORS",
    "EvolveResult",
    "Verdict",
    "answer_augmentation",
    "children_from_outputs",
    "evolve_backward",
    "evolve_llm",
    "fobar_text",
    "parse_rewrite",
    "sv_text",
    "verify_backward",
    "verify_children",
    "vote",
]

PROGRAMMING_ERRORS: tuple[type[BaseException], ...] = (
    TypeError,
    AttributeError,
    NameError,
    ImportError,
    AssertionError,
)
"""Raised as they are; any other exception of one request eliminates its child."""

# The operators that are not rewriting prompts: (paper, direction).
_OTHER_OPS = {
    "answer_aug": ("MetaMath", "answer"),
    "fobar": ("MetaMath", "backward"),
    "sv": ("MetaMath", "backward"),
}
_RAW_CHARS = 1000  # the rewriter's raw output kept in an eliminated row's meta


# --------------------------------------------------------------------------- parsing
_FENCED = re.compile(r"\A```[\w+-]*[ \t]*\n?(.*?)\n?(?:```)?\s*\Z", re.S)
_OPENER = re.compile(r"\A(?:sure|certainly|of course|absolutely|okay|ok|great)\b[!.,]*[ \t]*", re.I)
_HERE = re.compile(r"\A(?:here(?:'s| is| are)|below is)\b[^\n:：]*[:：][ \t]*", re.I)
_LABEL = re.compile(
    r"\A[*_ \t]*(?:#\s*)?(?:the\s+)?(?:(?:rewritten|new|created|revised|rephrased|evolved|"
    r"simplified|easier|harder|mutated|final)\s+)?(?:prompt|problem|question|version)"
    r"\s*(?:#\s*[:：]?|[:：])[*_ \t]*",
    re.I,
)
_TAIL = re.compile(r"\n[*#_ \t]*(?:answer|solution|explanation|note)\s*#?[*_]*\s*[:：]", re.I)
_QUOTES = {'"': '"', "'": "'", "“": "”", "「": "」"}


def _unwrap(text: str) -> str:
    """One pass of unwrapping: fence, opener, "Here is ...:", label, trailing answer, quotes."""
    m = _FENCED.match(text)
    if m:
        text = m.group(1)
    text = _OPENER.sub("", text.strip(), count=1).strip()
    text = _HERE.sub("", text, count=1).strip()
    text = _LABEL.sub("", text, count=1).strip()
    tail = _TAIL.search(text)
    if tail:
        text = text[: tail.start()].strip()
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def parse_rewrite(text: str | None) -> str | None:
    """The rewritten problem in a model's output, or None when nothing usable remains.

    Strips code fences, an opener ("Sure! Here is the rewritten problem:"), a leading label
    ("#Rewritten Prompt#:", "Rewritten problem:", "Question:"), a trailing answer or solution
    section and enclosing quotes. Scaffolding left *inside* the text (an echoed "#The Given
    Prompt#") stays, for :func:`~mathlab.evolve.eliminate.text_reason` to call it
    ``copied_template``.

    >>> parse_rewrite('Sure! Here is the rewritten problem:\\n#Rewritten Prompt#:\\n"Ann has 3 pens."')
    'Ann has 3 pens.'
    >>> parse_rewrite("```\\nRewritten problem: Tom has 4 boxes.\\n```\\n")
    'Tom has 4 boxes.'
    >>> parse_rewrite("#Rewritten Prompt#:") is None
    True
    """
    if text is None:
        return None
    text = text.strip()
    for _ in range(4):
        unwrapped = _unwrap(text)
        if unwrapped == text:
            break
        text = unwrapped
    return text or None  # punctuation alone is returned: the text rules name it


# --------------------------------------------------------------------------- requests
def _isolated(fn: Callable[[list], Sequence], items: list) -> list[Any]:
    """``fn(items)`` (one result per item); where that raises, ``fn([item])`` for each item
    alone, an item that still fails giving its exception instead of a result. Programming
    errors are raised."""
    if not items:
        return []
    try:
        return list(fn(items))
    except PROGRAMMING_ERRORS:
        raise
    except Exception as exc:
        if len(items) == 1:
            return [exc]
    out: list[Any] = []
    for item in items:
        try:
            out.append(fn([item])[0])
        except PROGRAMMING_ERRORS:
            raise
        except Exception as exc:
            out.append(exc)
    return out


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _check(backend: Any, role: str, style: str = "cot") -> None:
    """Raise on a wrong argument here, before a request could hide it as a failed request."""
    from mathlab.generate import Backend
    from mathlab.prompts import STYLES

    if not isinstance(backend, Backend):
        raise TypeError(
            f"{role} must be a generation backend (mathlab.generate.get_backend), "
            f"got {type(backend).__name__}"
        )
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r} (expected one of {', '.join(STYLES)})")


def _over_batches(
    result: EvolveResult,
    parents: list[Problem],
    batch_size: int,
    label: str,
    make: Callable[[list[Problem]], list[Problem]],
) -> EvolveResult:
    """`result` with ``make(batch)``'s children for each batch of `parents`, one printed
    line per batch."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n, done = -(-len(parents) // batch_size), 0
    for b in range(n):
        batch = parents[b * batch_size : (b + 1) * batch_size]
        result.children += make(batch)
        done += len(batch)
        print(
            f"{label}: batch {b + 1}/{n}, {done}/{len(parents)} parents, "
            f"{len(result.kept)} of {len(result.children)} children kept",
            flush=True,
        )
    return result


# --------------------------------------------------------------------------- children
def _child(parent: Problem, op: str, question: str, rewriter: str, suffix: str = "") -> Problem:
    paper, direction = (
        (PROMPTS[op].paper, PROMPTS[op].direction) if op in PROMPTS else _OTHER_OPS[op]
    )
    meta: dict[str, Any] = {
        "parent_id": parent.id,
        "evolve_op": op,
        "backend": "llm",
        "paper": paper,
        "direction": direction,
        "eliminated_reason": None,
        "rewriter": rewriter,
        "votes": [],
    }
    if parent.meta.get("lang"):
        meta["lang"] = parent.meta["lang"]
    if parent.meta.get("family"):
        meta["parent_family"] = parent.meta["family"]
    return Problem(f"{parent.id}~{op}{suffix}", question, "", "", "evolve", parent.split, meta)


def children_from_outputs(
    parents: Sequence[Problem],
    op: str,
    outputs: Sequence[str | BaseException | None],
    rewriter: str = "",
    seen: set[str] | None = None,
) -> list[Problem]:
    """One child per parent from the rewriter's outputs (a text, or the exception its
    request raised), marked by the text rules; not yet verified. A question already in
    `seen` (normalised texts of this operator's earlier children, updated) is a duplicate."""
    seen = set() if seen is None else seen
    children = []
    for parent, out in zip(parents, outputs, strict=True):
        if isinstance(out, BaseException):
            children.append(mark(_child(parent, op, "", rewriter), "unparseable", _error(out)))
            continue
        question = parse_rewrite(out)
        child = _child(parent, op, question or "", rewriter)
        reason = text_reason(parent.question, question)
        key = normalize_text(question or "")
        if reason is None and key in seen:
            reason = "duplicate"
        if reason is None:
            seen.add(key)
        else:
            child.meta["rewrite_raw"] = (out or "")[:_RAW_CHARS]
        children.append(mark(child, reason))
    return children


# --------------------------------------------------------------------------- verification
class Verdict(NamedTuple):
    """The vote over one child's solves: its answer and solution when kept (reason None)."""

    answer: str
    solution: str
    votes: list[str | None]
    reason: str | None
    detail: str | None


def _same_answer(a: str, b: str) -> bool:
    """Whether `a` and `b` are one answer as ``majority_vote`` groups them: among
    ``[a, b, b]`` the vote returns `a` only when `a` is in `b`'s (larger) group."""
    from mathlab.answers import majority_vote

    return majority_vote([a, b, b]) == a


_ANSWER_LINE = re.compile(r"the\s+(?:final\s+)?answer\s+is|####", re.I)


def _as_gsm8k(text: str, answer: str) -> str:
    """A solve's text with its final-answer line replaced by ``#### answer``."""
    from mathlab.data.solutions import convert_solution_text

    ends = list(_ANSWER_LINE.finditer(text))
    body = text[: ends[-1].start()] if ends else text
    return convert_solution_text(body.rstrip(), answer, "gsm8k")


def vote(solves: Sequence[Any], expected: str | None = None) -> Verdict:
    """The verdict on one child from its solves (each with ``.text`` and ``.pred``, e.g.
    :class:`~mathlab.styles.StyleResult`): kept when more than half agree on one answer and,
    with `expected` (the parent's answer for ``rephrase``, the masked number for FOBAR/SV),
    that answer is the expected one; else ``unverified`` with the reason as detail."""
    from mathlab.answers import GoldAnswerError, check_gold, is_correct, majority_vote

    votes = [s.pred for s in solves]
    k, voted = len(votes), majority_vote(votes)
    if voted is None:
        return Verdict("", "", votes, "unverified", f"no answer in {k} solves")
    agreeing = [s for s in solves if s.pred is not None and _same_answer(s.pred, voted)]
    if 2 * len(agreeing) <= k:
        return Verdict("", "", votes, "unverified", f"{k - len(agreeing)} of {k} solves disagree")
    try:
        answer = check_gold(voted if expected is None else expected)
        if expected is not None and not is_correct(voted, expected):
            detail = f"voted answer {voted} is not the expected {expected}"
            return Verdict("", "", votes, "unverified", detail)
    except GoldAnswerError as exc:
        return Verdict("", "", votes, "unverified", str(exc)[:200])
    return Verdict(answer, _as_gsm8k(agreeing[0].text, answer), votes, None, None)


def verify_children(
    children: Sequence[Problem],
    solver: Any,
    *,
    expected: Sequence[str | None] | None = None,
    k_solves: int = 3,
    seed: int = 0,
    temperature: float = 0.7,
    max_new_tokens: int = 256,
    style: str = "cot",
) -> list[Problem]:
    """`children` with the ones no text rule eliminated solved ``k_solves`` times by
    `solver` and kept or marked ``unverified`` by :func:`vote` (`expected`: one expected
    answer or None per child). A solve request that fails makes its child unverified."""
    from mathlab.generate import SamplingParams
    from mathlab.styles import solve

    _check(solver, "solver", style)
    if k_solves < 1:
        raise ValueError(f"k_solves must be at least 1, got {k_solves}")
    expected = list(expected) if expected is not None else [None] * len(children)
    todo = [i for i, c in enumerate(children) if c.meta.get("eliminated_reason") is None]
    sampling = SamplingParams(
        n=k_solves, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed
    )
    name = getattr(solver, "name", "solver")
    solves = _isolated(
        lambda items: solve(solver, items, style, sampling, desc=f"verify ({name})"),
        [children[i].question for i in todo],
    )
    out = list(children)
    for i, result in zip(todo, solves, strict=True):
        if isinstance(result, BaseException):
            out[i] = mark(children[i], "unverified", f"solve failed: {_error(result)}")
            continue
        v = vote(result, expected[i])
        # an unverified child keeps the answer it had (FOBAR/SV: the masked number)
        child = dataclasses.replace(
            children[i],
            answer=v.answer or children[i].answer,
            solution=v.solution,
            meta={**children[i].meta},
        )
        child.meta["votes"] = v.votes
        out[i] = mark(child, v.reason, v.detail)
    return out


# --------------------------------------------------------------------------- evolve
def evolve_llm(
    parents: Iterable[Problem],
    op: str,
    rewriter: Any,
    solver: Any = None,
    *,
    k_solves: int = 3,
    seed: int = 0,
    temperature: float = 0.7,
    max_new_tokens: int = 256,
    style: str = "cot",
    solve_temperature: float = 0.7,
    batch_size: int = 32,
) -> EvolveResult:
    """Rewrite every parent with operator `op` (a key of
    :data:`~mathlab.evolve.prompts.PROMPTS`) by the `rewriter` backend, then eliminate by
    the text rules, duplicates and the vote of `k_solves` solves by `solver` (default: the
    rewriter) at `solve_temperature`. Prints one line per batch of `batch_size` parents."""
    if op not in PROMPTS:
        raise ValueError(f"unknown rewriting operator {op!r}; choose one of: {', '.join(PROMPTS)}")
    from mathlab.generate import SamplingParams

    solver = rewriter if solver is None else solver
    _check(rewriter, "rewriter")
    _check(solver, "solver", style)
    parents = list(parents)
    result, seen = EvolveResult(op, len(parents)), set()
    sampling = SamplingParams(temperature=temperature, max_new_tokens=max_new_tokens, seed=seed)

    def rewrite(batch: list[Problem]) -> list[str]:
        prompts = [rewrite_messages(op, p.question) for p in batch]
        return [row[0].text for row in rewriter.generate(prompts, sampling, desc=f"evolve {op}")]

    def make(batch: list[Problem]) -> list[Problem]:
        children = children_from_outputs(batch, op, _isolated(rewrite, batch), rewriter.name, seen)
        return verify_children(
            children,
            solver,
            expected=[p.answer for p in batch] if op == "rephrase" else None,
            k_solves=k_solves,
            seed=seed,
            temperature=solve_temperature,
            max_new_tokens=max_new_tokens,
            style=style,
        )

    return _over_batches(result, parents, batch_size, f"evolve {op} ({rewriter.name})", make)


def answer_augmentation(
    parents: Iterable[Problem],
    backend: Any,
    k: int = 4,
    seed: int = 0,
    *,
    temperature: float = 0.7,
    max_new_tokens: int = 256,
    style: str = "cot",
    batch_size: int = 32,
) -> EvolveResult:
    """MetaMath's answer augmentation: `k` sampled solutions per parent
    (:func:`mathlab.sampling.sample_paths`). A correct one is a new row with the parent's
    question and answer and the sample as its ``#### answer`` solution; an incorrect one is
    kept as an eliminated row (``unverified``: ``wrong answer`` or ``no answer``), a repeat of
    a kept solution as ``duplicate``; a parent whose sampling failed gives one ``unparseable``
    row. Prints one line per batch."""
    from mathlab.sampling import SampleOptions, sample_paths

    _check(backend, "backend", style)
    parents = list(parents)
    options = SampleOptions(
        style=style, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed
    )
    result = EvolveResult("answer_aug", len(parents))

    def sample(batch: list[Problem]) -> list:
        paths = sample_paths(backend, batch, k, options, backend.name)
        return [paths[p.id] for p in batch]

    def make(batch: list[Problem]) -> list[Problem]:
        paths = _isolated(sample, batch)
        return [
            c for p, ps in zip(batch, paths, strict=True) for c in _augmented(p, ps, backend.name)
        ]

    return _over_batches(result, parents, batch_size, f"answer_aug ({backend.name})", make)


def _augmented(parent: Problem, paths: Any, name: str) -> list[Problem]:
    """One parent's AnsAug rows from its sampled paths (or the exception sampling raised)."""
    if isinstance(paths, BaseException):
        return [
            mark(
                _child(parent, "answer_aug", parent.question, name, "-0"),
                "unparseable",
                _error(paths),
            )
        ]
    rows, seen = [], set()
    for j, path in enumerate(paths):
        child = _child(parent, "answer_aug", parent.question, name, f"-{j}")
        child.meta["votes"] = [path.pred]
        if not path.correct:
            rows.append(
                mark(child, "unverified", "no answer" if path.pred is None else "wrong answer")
            )
            continue
        solution = _as_gsm8k(path.text, parent.answer)
        reason = "duplicate" if normalize_text(solution) in seen else None
        seen.add(normalize_text(solution))
        rows.append(
            mark(dataclasses.replace(child, answer=parent.answer, solution=solution), reason)
        )
    return rows


# --------------------------------------------------------------------------- FOBAR / SV
# A number as written: whole (not part of a larger number, a time, a fraction or a word).
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,/:])(?<!\d-)(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    r"(?![A-Za-z0-9_]|[.,/:-]\d)"
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_HAS_X = re.compile(r"(?<![A-Za-z])[xX](?![A-Za-z])")
_SENTENCES = {"en": re.compile(r"(?<=[.?!])\s+"), "zh": re.compile(r"(?<=[。？！])\s*")}


def _lang(parent: Problem) -> str:
    if parent.meta.get("lang") in ("en", "zh"):
        return parent.meta["lang"]
    return "zh" if re.search(r"[\u4e00-\u9fff]", parent.question) else "en"


def _mask(parent: Problem, seed: int | str) -> tuple[str, str, tuple[int, int]] | None:
    """(question with one number as ``x``, that number, its span), or None when no number
    appears exactly once or the question already has an ``x``. The same choice for FOBAR
    and SV of one parent and seed."""
    text = parent.question
    if _HAS_X.search(text):
        return None
    counts: dict[str, int] = {}
    for m in _DIGITS.finditer(text):
        key = m.group().replace(",", "")
        counts[key] = counts.get(key, 0) + 1
    spans = [
        m.span() for m in _NUMBER.finditer(text) if counts.get(m.group().replace(",", "")) == 1
    ]
    if not spans:
        return None
    start, end = random.Random(f"mathlab.evolve.backward:{seed}:{parent.id}").choice(spans)
    return text[:start] + "x" + text[end:], text[start:end].replace(",", ""), (start, end)


def _backward_child(parent: Problem, op: str, question: str, masked: tuple) -> Problem:
    child = _child(parent, op, question, "")
    child.meta["backward"] = {"masked_value": masked[1], "span": list(masked[2])}
    return dataclasses.replace(child, answer=masked[1])


def fobar_text(parent: Problem, seed: int | str = 0) -> Problem | None:
    """MetaMath's FOBAR question from the text alone: one number that the question states
    once becomes ``x``, then "If we know the answer to the above question is {answer}, what is
    the value of unknown variable x?". The child's answer is the masked number (to verify
    with :func:`verify_backward`); None when no number can be masked.

    >>> fobar_text(Problem("g-1", "Ann buys 3 pens at $12 each. How much does she pay?", "36")).question
    'Ann buys 3 pens at $x each. How much does she pay? If we know the answer to the above question is 36, what is the value of unknown variable x?'
    """
    masked = _mask(parent, seed)
    if masked is None:
        return None
    lang = _lang(parent)
    sep = " " if lang == "en" else ""
    question = f"{masked[0].rstrip()}{sep}{FOBAR[lang].format(ans=parent.answer)}"
    return _backward_child(parent, "fobar", question, masked)


def sv_text(parent: Problem, seed: int | str = 0) -> Problem | None:
    """MetaMath's self-verification question from the text alone: the number
    :func:`fobar_text` masks becomes ``x``, the last sentence (the question) is stated with
    its answer ("The answer to "How much does she pay?" is 36."; MetaMath has a model write
    it as a declarative, here it is quoted: ``meta.sv_form = "quoted"``), then "What is the
    value of unknown variable x?". None when no number can be masked."""
    masked = _mask(parent, seed)
    if masked is None:
        return None
    lang = _lang(parent)
    parts = [s for s in _SENTENCES[lang].split(masked[0].strip()) if s]
    body, last = parts[:-1], parts[-1]
    if lang == "en":
        fact = f'The answer to "{last}" is {parent.answer}.'
    else:
        fact = f"已知“{last}”的答案是{parent.answer}。"
    question = (" " if lang == "en" else "").join([*body, fact, SV_ASK[lang]])
    child = _backward_child(parent, "sv", question, masked)
    child.meta["sv_form"] = "quoted"
    return child


def verify_backward(
    children: Sequence[Problem], solver: Any, k_solves: int = 3, **solve_opts: Any
) -> list[Problem]:
    """FOBAR/SV children (from :func:`fobar_text` / :func:`sv_text`; None entries are
    dropped) solved ``k_solves`` times by `solver`: kept only when the vote for ``x`` is the
    masked number, else ``unverified`` (children already eliminated stay as they are).
    `solve_opts`: seed, temperature, max_new_tokens, style of :func:`verify_children`."""
    _check(solver, "solver")
    children = [
        dataclasses.replace(c, meta={**c.meta, "rewriter": solver.name})
        for c in children
        if c is not None
    ]
    return verify_children(
        children,
        solver,
        expected=[c.meta["backward"]["masked_value"] for c in children],
        k_solves=k_solves,
        **solve_opts,
    )


def evolve_backward(
    parents: Iterable[Problem],
    op: str,
    solver: Any,
    k_solves: int = 3,
    seed: int = 0,
    batch_size: int = 32,
    **solve_opts: Any,
) -> EvolveResult:
    """:func:`fobar_text` (``op="fobar"``) or :func:`sv_text` (``op="sv"``) on every parent,
    then :func:`verify_backward`; a parent with no number to mask is skipped
    (``no_maskable_number``). Prints one line per batch."""
    make = {"fobar": fobar_text, "sv": sv_text}.get(op)
    if make is None:
        raise ValueError(f"unknown backward operator {op!r}; choose fobar or sv")
    _check(solver, "solver")
    parents = list(parents)
    result = EvolveResult(op, len(parents))

    def masked(batch: list[Problem]) -> list[Problem]:
        made = [(p, make(p, seed)) for p in batch]
        skipped = sum(c is None for _, c in made)
        if skipped:
            result.skipped["no_maskable_number"] = (
                result.skipped.get("no_maskable_number", 0) + skipped
            )
        children = [mark(c, text_reason(p.question, c.question)) for p, c in made if c is not None]
        return verify_backward(children, solver, k_solves, seed=seed, **solve_opts)

    return _over_batches(result, parents, batch_size, f"evolve {op} ({solver.name})", masked)
