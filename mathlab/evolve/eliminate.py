"""WizardLM's elimination rules for evolved instructions, each with a named reason.

An evolved problem is eliminated when (first rule that applies):

* ``unparseable``: there is no question text at all (the rewriter's output could not be read);
* ``punctuation_only``: the text has no letter or digit;
* ``too_short``: fewer than :data:`MIN_WORDS` words (:data:`MIN_CHARS_ZH` characters in Chinese);
* ``refusal``: the rewriter declined ("Sorry, I cannot ...", "As an AI language model");
* ``copied_template``: it copies the rewriting prompt's scaffolding ("#Given Prompt#",
  "#Rewritten Prompt#", "Rewritten problem:");
* ``no_gain``: it is the parent again (the same text up to case, spacing and punctuation, or
  at least :data:`SAME_RATIO` similar) — no information gain;

and, set by the backend that made it (never by these text rules):

* ``unverified``: its answer could not be verified (no answer, or the solves disagree);
* ``not_exact``: a symbolic child whose annotations or answer do not recompute from its
  program (a bug: the tests require this count to be zero);
* ``duplicate``: the same problem as an earlier child of the same operator.

>>> text_reason("What is 2 + 3?", "Sorry, as an AI language model I cannot help.")
'refusal'
>>> text_reason("Tom has 3 apples. How many?", "Tom has 3 apples.  How many?")
'no_gain'
>>> text_reason("Tom has 3 apples. How many?", "Tom has 3 apples and buys 4 more. How many now?") is None
True
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from mathlab.data.records import Problem

__all__ = [
    "BACKEND_REASONS",
    "EvolveResult",
    "REASONS",
    "TEXT_REASONS",
    "count_reasons",
    "kept",
    "mark",
    "text_reason",
]

TEXT_REASONS = (
    "unparseable",
    "punctuation_only",
    "too_short",
    "refusal",
    "copied_template",
    "no_gain",
)
BACKEND_REASONS = ("unverified", "not_exact", "duplicate")
REASONS = TEXT_REASONS + BACKEND_REASONS

MIN_WORDS = 6
MIN_CHARS_ZH = 10
SAME_RATIO = 0.97

_REFUSAL = re.compile(
    r"\b(?:sorry|i\s+(?:cannot|can't|can not|am unable|'m unable)|unable to (?:help|assist|"
    r"rewrite|create)|as an ai|language model|i apologi[sz]e)\b|抱歉|对不起|无法",
    re.IGNORECASE,
)
_TEMPLATE = re.compile(
    r"#\s*(?:given|rewritten|created|new)\s+(?:prompt|problem|question)\s*#"
    r"|\b(?:given|rewritten|created|original)\s+(?:prompt|problem|question)\s*:"
    r"|\bthe\s+(?:given|rewritten)\s+prompt\b",
    re.IGNORECASE,
)
_ZH = re.compile(r"[\u4e00-\u9fff]")


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def text_reason(parent_question: str, child_question: str | None) -> str | None:
    """The first text rule `child_question` breaks against its parent, or None (kept)."""
    if child_question is None or not child_question.strip():
        return "unparseable"
    text = child_question.strip()
    if not re.search(r"\w", text):
        return "punctuation_only"
    if _ZH.search(text):
        if len(_ZH.findall(text)) < MIN_CHARS_ZH:
            return "too_short"
    elif len(text.split()) < MIN_WORDS:
        return "too_short"
    if _REFUSAL.search(text):
        return "refusal"
    if _TEMPLATE.search(text):
        return "copied_template"
    a, b = _normal(parent_question), _normal(text)
    if a == b or SequenceMatcher(None, a, b, autojunk=False).ratio() >= SAME_RATIO:
        return "no_gain"
    return None


def mark(child: Problem, reason: str | None, detail: str | None = None) -> Problem:
    """`child` with ``meta.eliminated_reason`` set (and ``meta.eliminated_detail`` when given)."""
    if reason is not None and reason not in REASONS:
        raise ValueError(f"unknown elimination reason {reason!r} (known: {', '.join(REASONS)})")
    meta = {**child.meta, "eliminated_reason": reason}
    if detail is not None:
        meta["eliminated_detail"] = detail
    return dataclasses.replace(child, meta=meta)


def kept(children: Iterable[Problem]) -> list[Problem]:
    """The children that were not eliminated."""
    return [c for c in children if c.meta.get("eliminated_reason") is None]


def count_reasons(children: Iterable[Problem]) -> dict[str, int]:
    """{"kept": n, reason: n, ...} with every reason present (0 when none)."""
    counts = Counter(c.meta.get("eliminated_reason") or "kept" for c in children)
    return {"kept": counts.get("kept", 0), **{r: counts.get(r, 0) for r in REASONS}}


@dataclass
class EvolveResult:
    """One operator over a parent set, from either backend: every child (eliminated ones
    marked) and the parents it skipped, by reason."""

    op: str
    n_parents: int
    children: list[Problem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def kept(self) -> list[Problem]:
        return kept(self.children)

    def counts(self) -> dict[str, Any]:
        """{op, parents, children, kept, <each elimination reason>, skipped, skipped_by}."""
        return {
            "op": self.op,
            "parents": self.n_parents,
            "children": len(self.children),
            **count_reasons(self.children),
            "skipped": sum(self.skipped.values()),
            "skipped_by": dict(sorted(self.skipped.items())),
        }
