"""Evolved problems in the run folder: ``RUN_DIR/evolve/<op>.jsonl`` (symbolic operators)
and ``RUN_DIR/evolve/llm_<op>.jsonl`` (the LLM rewriter), kept and eliminated rows together,
each with ``meta.eliminated_reason`` (None when kept). 01_evolve writes them; 02_sft reads
the kept rows of the operators it is asked to train on (``sft.train_extra``,
``sft.evolve_compare``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from mathlab.data.records import Problem, read_jsonl, write_jsonl

__all__ = ["evolve_path", "read_kept", "write_children"]


def evolve_path(run, op: str) -> Path:
    """Where operator `op`'s children live (``llm_<op>`` for the LLM rewriter's)."""
    return run.path / "evolve" / f"{op}.jsonl"


def write_children(run, op: str, children: Sequence[Problem]) -> Path:
    """Write one operator's children (kept and eliminated) atomically. A kept child's gold
    answer must parse (``answers.check_gold``); an eliminated one may have none."""
    from mathlab.answers import GoldAnswerError, check_gold

    for child in children:
        if child.meta.get("eliminated_reason") is None:
            try:
                check_gold(child.answer)
            except GoldAnswerError as exc:
                raise ValueError(f"{op}: kept child {child.id}: {exc}") from None
    return write_jsonl(evolve_path(run, op), [_writable(c) for c in children], check_answer=False)


def _writable(child: Problem) -> Problem:
    """An eliminated child with no question or answer (the rewriter's output was empty or
    unreadable) gets a bracketed placeholder there, so the row keeps its reason on file."""
    reason = child.meta.get("eliminated_reason")
    if reason is None or (child.question.strip() and child.answer.strip()):
        return child
    return dataclasses.replace(
        child,
        question=child.question if child.question.strip() else f"[eliminated: {reason}]",
        answer=child.answer if child.answer.strip() else "[none]",
    )


def read_kept(run, ops: Iterable[str], parent_ids: Iterable[str] | None = None) -> list[Problem]:
    """The kept children of `ops` (in that order), only of `parent_ids` when given.

    A missing file is an error that names 01_evolve and the operator (``Run.require``)."""
    wanted = None if parent_ids is None else set(parent_ids)
    out: list[Problem] = []
    for op in ops:
        path = run.require(f"evolve/{op}.jsonl", provided_by="01_evolve")
        out.extend(
            p
            for p in read_jsonl(path, check_answer=False)
            if p.meta.get("eliminated_reason") is None
            and (wanted is None or p.meta.get("parent_id") in wanted)
        )
    return out
