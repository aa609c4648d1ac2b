r"""Decoding styles: CoT, PoT, hybrid, calculator CoT and tool-integrated reasoning (TIR).

    >>> results = solve(backend, problems, "tir", SamplingParams(max_new_tokens=384))  # doctest: +SKIP
    >>> results[0][0].pred, results[0][0].tool_calls                                    # doctest: +SKIP

``solve(backend, problems_or_questions, style, sampling)`` returns, per problem, a list of
``sampling.n`` :class:`StyleResult` (text, pred, n_tokens, tool_calls, ...). The prompt of
each style is ``mathlab.prompts.messages_for(question, style)`` (training uses the same).

* ``cot``: the model reasons and ends with ``The answer is: N``; pred = ``extract_answer``.
* ``pot`` (MAmmoTH's program of thought): the model writes a program in a ```` ```python ````
  block (the raw completion is taken as the program when there is no fence); it runs in
  ``mathlab.sandbox``, many in parallel; pred = the last line the program printed.
* ``hybrid`` (MAmmoTH): PoT first; CoT for the samples whose program gave no answer
  (an error, a timeout, no output or a non-numeric output).
* ``tir`` (Qwen2.5-Math): interleaved ```` ```python ```` and ```` ```output ```` blocks.
  Generation stops at ```` ```output ````; the last python block runs in the sandbox; its
  output (truncated to ``output_chars``) is appended as ```` ```output\n...\n```\n```` and
  generation resumes: at most ``max_tool_calls`` calls.
* ``calc`` (GSM8K's calculator): the CoT prompt; whenever the model has written
  ``<<expr=`` the loop computes ``expr`` with ``mathlab.calculator`` (exact, safe) and
  writes ``value>>`` for it, then resumes. On the HF backend generation stops right after
  the ``=`` (a stop pattern); elsewhere it stops at ``>>`` and the model's own value is
  replaced by the computed one (:func:`calc_resume` does both, a pure function).

Calculator and TIR are loops outside the backends and batched: every round generates, for
all sequences still active, up to the next tool boundary (one ``backend.generate`` call),
runs the tools, appends their results and resumes, until no sequence is active or
``max_rounds`` is reached (then one last round without tool stops lets them finish).
``max_new_tokens`` bounds the tokens the model writes over all rounds; ``n_tokens`` counts
only those (tool outputs are not model tokens).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from mathlab.generate import Backend, ChatPrompt, Completion, SamplingParams, ToolBackend
from mathlab.prompts import STYLES, messages_for

__all__ = [
    "CALC_STOP",
    "CALC_STOP_REGEX",
    "TIR_STOP",
    "StyleResult",
    "calc_resume",
    "extract_code",
    "last_python_block",
    "program_answer",
    "solve",
    "tir_output_block",
    "tool_loop",
]

TIR_STOP = "```output"
CALC_STOP = ">>"
CALC_STOP_REGEX = r"<<[^<>=\n]*="
"""Stop right after ``<<expr=`` (the expression holds no ``<``, ``>``, ``=`` or newline)."""
OUTPUT_CHARS = 512


@dataclass
class StyleResult:
    """One solution. text: the whole assistant response (tool outputs included);
    pred: the extracted answer or None; n_tokens: tokens the model generated;
    tool_calls: programs run (pot, tir) or values computed (calc);
    style: the style whose answer this is (hybrid: "pot" or "cot");
    error: the last program's error, if any; meta: style-specific extras."""

    text: str
    pred: str | None
    n_tokens: int
    tool_calls: int = 0
    finish_reason: str = ""
    style: str = ""
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- pure helpers
_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:\n?```|\Z)", re.S)
_PY_FENCE = re.compile(r"```[ \t]*(?:python3?|py)[ \t]*\n(.*?)(?:\n?```|\Z)", re.S)


def extract_code(text: str) -> str:
    """The program in a PoT completion: the first ```python block (an unclosed block runs to
    the end), else the first plain ``` block, else the whole text.

    >>> extract_code("Here:\\n```python\\nprint(1 + 2)\\n```\\nDone.")
    'print(1 + 2)'
    >>> extract_code("x = 3\\nprint(x)")
    'x = 3\\nprint(x)'
    """
    for pattern in (_PY_FENCE, _FENCE):
        m = pattern.search(text)
        if m and m.group(1).strip():
            return m.group(1).strip("\n")
    return text.strip()


def last_python_block(text: str) -> str | None:
    """The last closed ```python block of a TIR response, or None."""
    blocks = re.findall(r"```[ \t]*(?:python3?|py)[ \t]*\n(.*?)\n?```", text, re.S)
    return blocks[-1] if blocks else None


def print_last_expression(code: str) -> str:
    """Like a notebook cell: the value of a final bare expression (not a call to print) is
    printed, unless it is None (``main()`` that prints and returns nothing adds no line).

    >>> print_last_expression("x = 2\\nx * 21")
    'x = 2\\n_value = (x * 21)\\nif _value is not None: print(_value)'
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return code
    last = tree.body[-1]
    value = last.value
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "print"
    ):
        return code
    lines = code.split("\n")
    segment = ast.get_source_segment(code, last)
    if segment is None or last.lineno != last.end_lineno or last.col_offset != 0:
        return code
    rest = lines[last.lineno - 1][last.end_col_offset :]
    lines[last.lineno - 1] = f"_value = ({segment}){rest}\nif _value is not None: print(_value)"
    return "\n".join(lines)


def program_answer(stdout: str) -> str | None:
    """The answer a program printed: its last non-empty output line, as an answer."""
    from mathlab.answers import extract_answer

    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    if not lines or lines[-1] in ("None", "nan", "NaN", "inf", "-inf"):
        return None
    return extract_answer(lines[-1])


def tir_output_block(result, output_chars: int = OUTPUT_CHARS) -> str:
    """The ```output block appended after a TIR program ran (stdout, then the error)."""
    out = result.stdout or ""
    if not result.ok and result.error:
        out = (out.rstrip("\n") + "\n" if out.strip() else "") + str(result.error)
    out = out.strip("\n")
    if len(out) > output_chars:
        out = out[:output_chars] + "\n... (output truncated)"
    return f"```output\n{out}\n```\n"


_CALC_OPEN = re.compile(r"<<([^<>=\n]*)=\Z")
_CALC_VALUE = re.compile(r"<<([^<>=\n]*)=([^<>\n]*)\Z")


def calc_resume(response: str, stopped_on: str | None) -> tuple[str, str | None]:
    """The calculator step: (response to resume from, computed value or None).

    `response` is the assistant text so far; `stopped_on` is what stopped this round:
    the text of a ``<<expr=`` pattern (kept in the text) or ``">>"`` (cut from the text).

    >>> calc_resume("She has <<48/2=", "<<48/2=")
    ('She has <<48/2=24>>', '24')
    >>> calc_resume("She has <<48/2=23", ">>")          # the model's value is replaced
    ('She has <<48/2=24>>', '24')
    >>> calc_resume("<<os.system(1)=", "<<os.system(1)=")  # not arithmetic: the model goes on
    ('<<os.system(1)=', None)
    """
    from mathlab.calculator import calc_insert

    if stopped_on == CALC_STOP:
        m = _CALC_VALUE.search(response)
        if m is None:
            return response + CALC_STOP, None
        value = calc_insert(m.group(1))
        if value is None:
            return response + CALC_STOP, None
        return response[: m.start(2)] + value + CALC_STOP, value
    m = _CALC_OPEN.search(response)
    if m is None:
        return response, None
    value = calc_insert(m.group(1))
    if value is None:
        return response, None
    return response + value + CALC_STOP, value


# --------------------------------------------------------------------------- running programs
@dataclass(frozen=True)
class _Programs:
    """How the model's programs run (pot, hybrid, tir): each in the sandbox within
    `timeout` seconds and `memory_mb` MiB, `workers` at once (None: CPU count)."""

    timeout: float
    memory_mb: int
    workers: int | None

    def run(self, codes: list[str]) -> list:
        from mathlab.sandbox import run_many

        if not codes:
            return []
        return run_many(
            [print_last_expression(c) for c in codes],
            workers=self.workers,
            timeout=self.timeout,
            memory_mb=self.memory_mb,
        )


# --------------------------------------------------------------------------- the styles
def _question(item: Any, i: int) -> str:
    if isinstance(item, str):
        return item
    question = getattr(item, "question", None)
    if question is None and isinstance(item, dict):
        question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise TypeError(
            f"problems[{i}]: expected a Problem or a question string, got {item!r:.100}"
        )
    return question


def _cot(backend, messages: list, sampling: SamplingParams, desc: str) -> list[list[StyleResult]]:
    from mathlab.answers import extract_answer

    outs = backend.generate(messages, sampling, desc=desc)
    return [
        [
            StyleResult(c.text, extract_answer(c.text), c.n_tokens, 0, c.finish_reason, "cot")
            for c in row
        ]
        for row in outs
    ]


def _pot(
    backend, messages: list, sampling: SamplingParams, desc: str, programs: _Programs
) -> list[list[StyleResult]]:
    outs = backend.generate(messages, sampling, desc=desc)
    flat = [c for row in outs for c in row]
    codes = [extract_code(c.text) for c in flat]
    runs = programs.run(codes)
    results = []
    for c, code, r in zip(flat, codes, runs):
        pred = program_answer(r.stdout) if r.ok else None
        error = (
            r.error if not r.ok else (None if pred is not None else "the program printed no answer")
        )
        results.append(
            StyleResult(
                c.text,
                pred,
                c.n_tokens,
                1,
                c.finish_reason,
                "pot",
                error,
                {"program": code, "stdout": r.stdout[-OUTPUT_CHARS:]},
            )
        )
    n = sampling.n
    return [results[i * n : (i + 1) * n] for i in range(len(outs))]


def _needs_fallback(result: StyleResult) -> bool:
    from mathlab.answers import parse_number

    return result.pred is None or parse_number(result.pred) is None


def _hybrid(
    backend, questions: list[str], sampling: SamplingParams, desc: str, programs: _Programs
) -> list[list[StyleResult]]:
    pot_messages = [messages_for(q, "pot") for q in questions]
    pot = _pot(backend, pot_messages, sampling, f"{desc} pot", programs)
    failed = [(i, j) for i, row in enumerate(pot) for j, r in enumerate(row) if _needs_fallback(r)]
    if failed:
        cot = _cot(
            backend,
            [messages_for(questions[i], "cot") for i, _ in failed],
            sampling.replace(n=1, seed=sampling.seed + 1),
            f"{desc} cot fallback",
        )
        for (i, j), (c,) in zip(failed, cot):
            p = pot[i][j]
            pot[i][j] = StyleResult(
                c.text,
                c.pred,
                p.n_tokens + c.n_tokens,
                p.tool_calls,
                c.finish_reason,
                "cot",
                p.error,
                {**p.meta, "pot_text": p.text, "pot_pred": p.pred},
            )
    return pot


@dataclass
class _Seq:
    prompt: int  # index of the prompt
    messages: list
    response: str = ""
    n_tokens: int = 0
    tool_calls: int = 0
    finish_reason: str = ""
    error: str | None = None
    done: bool = False

    def fork(self) -> _Seq:
        """A new sequence from this start (one per sample): its response, no tokens yet."""
        return _Seq(self.prompt, self.messages, self.response, 0, self.tool_calls, error=self.error)

    def add(self, c: Completion) -> None:
        """Append a generated piece."""
        self.response += c.text
        self.n_tokens += c.n_tokens
        self.finish_reason = c.finish_reason

    def result(self, tool: str) -> StyleResult:
        from mathlab.answers import extract_answer

        return StyleResult(
            self.response,
            extract_answer(self.response),
            self.n_tokens,
            self.tool_calls,
            self.finish_reason,
            tool,
            self.error,
        )


def _prefix_at_boundary(prefix: str, tool: str) -> str | None:
    """What stopped a given assistant prefix, when it already ends at a tool boundary."""
    if tool == "calc":
        m = _CALC_OPEN.search(prefix)
        return m.group(0) if m else None
    tail = prefix.rstrip()
    if (
        tail.endswith("```")
        and last_python_block(tail)
        and TIR_STOP not in tail[tail.rfind("```python") :]
    ):
        return TIR_STOP
    return None


def tool_loop(
    backend: Backend,
    prompts: Sequence[Any],
    tool: str,
    sampling: SamplingParams | None = None,
    *,
    max_rounds: int | None = None,
    timeout: float = 5.0,
    memory_mb: int = 512,
    workers: int | None = None,
    max_tool_calls: int = 4,
    output_chars: int = OUTPUT_CHARS,
    desc: str | None = None,
) -> list[list[StyleResult]]:
    """The batched calculator (``tool="calc"``) or TIR (``tool="tir"``) loop over prompts.

    prompts: chat messages or ``ChatPrompt(messages, prefix)``; a prefix that already ends
    at a tool boundary (``<<expr=``, or a closed ```python block) gets its tool result
    first. Each result's text is the whole assistant response, prefix included. A backend
    with ``supports_tools`` runs the whole loop inside one generate call; any other in
    rounds of generate calls.
    """
    programs = _Programs(timeout, memory_mb, workers)
    loop = _Loop.build(tool, sampling, programs, max_rounds, max_tool_calls, output_chars, desc)
    return _run_loop(backend, prompts, loop)


def _run_loop(backend: Backend, prompts: Sequence[Any], loop: _Loop) -> list[list[StyleResult]]:
    starts = _starts(prompts, loop.tool, loop.step)
    if backend.supports_tools:
        tool_backend = cast(ToolBackend, backend)
        return _tool_loop_inline(tool_backend, starts, loop)
    seqs = _tool_loop_rounds(backend, starts, loop)
    results: list[list[StyleResult]] = [[] for _ in starts]
    for s in seqs:
        results[s.prompt].append(s.result(loop.tool))
    return results


def _starts(prompts: Sequence[Any], tool: str, step) -> list[_Seq]:
    """One start per prompt; a prefix already at a tool boundary gets its tool result."""
    from mathlab.generate import as_chat_prompt

    starts = []
    for i, p in enumerate(prompts):
        cp = as_chat_prompt(p, f"prompts[{i}]")
        if isinstance(cp, str):
            raise TypeError(f"prompts[{i}]: the tool loops need chat prompts, not raw strings")
        starts.append(_Seq(i, cp.messages, cp.prefix))
    pre = [(s, Completion("", 0, "stop", _prefix_at_boundary(s.response, tool))) for s in starts]
    step([(s, c) for s, c in pre if c.stop is not None])
    return starts


@dataclass
class _Loop:
    """What a tool loop runs: the tool, its step (runs the tool on the sequences at a
    boundary), the sampling, the rounds allowed and the progress label."""

    tool: str
    step: Callable[[list], None]
    sampling: SamplingParams
    max_rounds: int
    desc: str

    @classmethod
    def build(
        cls,
        tool: str,
        sampling: SamplingParams | None,
        programs: _Programs,
        max_rounds: int | None,
        max_tool_calls: int,
        output_chars: int,
        desc: str | None,
    ) -> _Loop:
        """The loop :func:`tool_loop`'s arguments describe (checked, defaults filled in)."""
        if tool not in ("calc", "tir"):
            raise ValueError(f"tool must be 'calc' or 'tir', got {tool!r}")
        if max_rounds is None:
            max_rounds = max_tool_calls if tool == "tir" else 16
        if tool == "tir":
            step = _tir_step(programs, max_tool_calls, output_chars)
        else:
            step = _calc_step
        return cls(tool, step, sampling or SamplingParams(), max_rounds, desc or tool)


def _tool_loop_rounds(backend: Backend, starts: list[_Seq], loop: _Loop) -> list[_Seq]:
    """The tool loop in rounds: each generates, for all sequences still active, up to the
    next tool boundary (one generate call), runs `step` on those that stopped there and
    goes on with them; the last round has no tool stops. Returns every sequence (n per
    start, in prompt order)."""
    sampling, max_rounds, desc = loop.sampling, loop.max_rounds, loop.desc
    seqs: list[_Seq] = []
    tool_stop = [TIR_STOP] if loop.tool == "tir" else [CALC_STOP]
    regex = [CALC_STOP_REGEX] if loop.tool == "calc" and backend.supports_stop_regex else []
    active: list[_Seq] = []
    for rnd in range(max_rounds + 1):
        last = rnd == max_rounds
        params = sampling.replace(
            stop=sampling.stop + ([] if last else tool_stop),
            stop_regex=sampling.stop_regex + ([] if last else regex),
            seed=sampling.seed + rnd,
        )
        if rnd == 0:
            outs = backend.generate(
                [ChatPrompt(s.messages, s.response) for s in starts], params, desc=f"{desc} round 0"
            )
            batch = []
            for s, row in zip(starts, outs):
                for c in row:
                    seq = s.fork()
                    seqs.append(seq)
                    batch.append((seq, c))
        else:
            # One max_new_tokens for the round (the largest budget left); each sequence's
            # excess is cut below, so none writes more than sampling.max_new_tokens.
            budget = max(sampling.max_new_tokens - s.n_tokens for s in active)
            params = params.replace(n=1, max_new_tokens=budget, min_new_tokens=0)
            outs = backend.generate(
                [ChatPrompt(s.messages, s.response) for s in active],
                params,
                desc=f"{desc} round {rnd}",
            )
            batch = list(zip(active, [row[0] for row in outs]))
        at_boundary = []
        for s, c in batch:
            c = _fit_budget(backend, c, sampling.max_new_tokens - s.n_tokens)
            s.add(c)
            tool_hit = (
                c.finish_reason == "stop" and c.stop is not None and c.stop not in sampling.stop
            )
            if tool_hit and not last and s.n_tokens < sampling.max_new_tokens:
                at_boundary.append((s, c))
            else:
                s.done = True
        loop.step(at_boundary)
        active = [s for s, _ in at_boundary if not s.done]
        if not active:
            break
    return seqs


def _tool_loop_inline(
    backend: ToolBackend, starts: list[_Seq], loop: _Loop
) -> list[list[StyleResult]]:
    """The tool loop inside one generate call of a backend that continues sequences in
    place (``supports_tools``: the fast engine). Same semantics as the rounds: each tool
    boundary runs `step`, the sequence resumes from the edited response; at most
    `max_rounds` tool stops per sequence; ``max_new_tokens`` bounds the model's tokens
    over all of them. Sampled sequences draw from one random stream each instead of a
    seed per round."""
    tool, step, sampling = loop.tool, loop.step, loop.sampling
    seqs: dict[tuple[int, int], _Seq] = {}

    def seq(i: int, j: int) -> _Seq:
        if (i, j) not in seqs:
            seqs[(i, j)] = starts[i].fork()
        return seqs[(i, j)]

    def on_tool(events) -> list[str | None]:
        batch = []
        for ev in events:
            s, c = seq(ev.index, ev.sample), ev.completion
            s.add(c)
            batch.append((s, c))
        step(batch)
        return [None if s.done else s.response for s, _ in batch]

    outs = backend.generate(
        [ChatPrompt(s.messages, s.response) for s in starts],
        sampling,
        desc=f"{loop.desc} (tools in place)",
        tool_stop=[TIR_STOP] if tool == "tir" else [CALC_STOP],
        tool_regex=[CALC_STOP_REGEX] if tool == "calc" else [],
        on_tool=on_tool,
        max_tool_rounds=loop.max_rounds,
    )
    results: list[list[StyleResult]] = []
    for i, row in enumerate(outs):
        out_row = []
        for j, c in enumerate(row):
            # greedy: one sequence per prompt, its completion repeated n times
            if sampling.greedy and j > 0:
                out_row.append(out_row[0])
                continue
            s = seq(i, 0 if sampling.greedy else j)
            s.add(c)
            out_row.append(s.result(tool))
        results.append(out_row)
    return results


def _fit_budget(backend: Backend, c: Completion, budget: int) -> Completion:
    """Cut a completion that overran its sequence's remaining token budget (batched rounds
    share one max_new_tokens)."""
    if c.n_tokens <= budget:
        return c
    tokenizer = backend.tokenizer
    if tokenizer is None:
        return c  # token-exact cuts need the tokenizer; the overrun is bounded by one round
    ids = tokenizer(c.text, add_special_tokens=False)["input_ids"][: max(budget, 0)]
    return Completion(
        tokenizer.decode(ids, skip_special_tokens=True), max(budget, 0), "length", None
    )


def _tir_step(programs: _Programs, max_tool_calls: int, output_chars: int):
    def step(at_boundary: list) -> None:
        runnable = []
        for s, _ in at_boundary:
            code = last_python_block(s.response)
            if code is None or s.tool_calls >= max_tool_calls:
                s.done = True  # a ```output with no program before it, or no calls left
                continue
            runnable.append((s, code))
        runs = programs.run([code for _, code in runnable])
        for (s, _), r in zip(runnable, runs):
            s.response += tir_output_block(r, output_chars)
            s.tool_calls += 1
            s.error = None if r.ok else r.error

    return step


def _calc_step(at_boundary: list) -> None:
    for s, c in at_boundary:
        s.response, value = calc_resume(s.response, c.stop)
        if value is not None:
            s.tool_calls += 1


def solve(
    backend: Backend,
    problems: Sequence[Any],
    style: str,
    sampling: SamplingParams | None = None,
    *,
    timeout: float = 5.0,
    memory_mb: int = 512,
    workers: int | None = None,
    max_tool_calls: int = 4,
    max_rounds: int | None = None,
    output_chars: int = OUTPUT_CHARS,
    desc: str | None = None,
) -> list[list[StyleResult]]:
    """Solve each problem (a Problem or a question string) ``sampling.n`` times in `style`.

    timeout / memory_mb: limits of each program (pot, hybrid, tir); workers: programs run
    at once (default: CPU count). max_tool_calls: TIR's program budget per solution.
    max_rounds: tool rounds before the final round (default: max_tool_calls for tir, 16
    for calc). output_chars: TIR output kept per call.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r} (expected one of {', '.join(STYLES)})")
    sampling = sampling or SamplingParams()
    questions = [_question(item, i) for i, item in enumerate(problems)]
    if not questions:
        return []
    desc = desc or style
    messages = [messages_for(q, style) for q in questions]
    programs = _Programs(timeout, memory_mb, workers)
    if style == "cot":
        return _cot(backend, messages, sampling, desc)
    if style == "pot":
        return _pot(backend, messages, sampling, desc, programs)
    if style == "hybrid":
        return _hybrid(backend, questions, sampling, desc, programs)
    loop = _Loop.build(style, sampling, programs, max_rounds, max_tool_calls, output_chars, desc)
    return _run_loop(backend, messages, loop)
