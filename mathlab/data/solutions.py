"""Solution renderings and dedup keys of generated (and GSM8K-style) problems.

:func:`render_solution` (a problem or a bare program) and :func:`convert_solution_text`
(any GSM8K-style solution text, e.g. a real GSM8K row) write a solution in one of
:data:`STYLES`, the SFT data-format ablation: ``gsm8k`` (annotations, ``#### N``),
``answer_is`` (annotations, ``The answer is: N``), ``plain`` (no annotations,
``The answer is: N``) and ``answer_only``. Chinese problems end with ``The answer is: N``
too (not ``答案是 N``), so every style has one final-answer format that
:func:`mathlab.answers.extract_answer` reads first. :func:`program_key` keys a problem by
its program and numbers, whatever its wording.
"""

from __future__ import annotations

import hashlib
import json
import re
from fractions import Fraction
from typing import Any

from mathlab.data.program import execute_program, fmt, program_values, substitute
from mathlab.data.records import Problem

STYLES = ("gsm8k", "answer_is", "plain", "answer_only")
ANSWER_IS = "The answer is: "
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
    values, _ = program_values(program)
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
