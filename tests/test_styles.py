"""Decoding styles: the pure tool steps, and the batched loops driven by real models."""

from __future__ import annotations

import re

import pytest
import torch

from mathlab.calculator import check_annotation, find_annotations
from mathlab.generate import ChatPrompt, HFBackend, SamplingParams
from mathlab.prompts import cot_messages, messages_for
from mathlab.sandbox import SandboxResult
from mathlab.styles import (
    CALC_STOP_REGEX,
    calc_resume,
    extract_code,
    last_python_block,
    print_last_expression,
    program_answer,
    solve,
    tir_output_block,
    tool_loop,
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: threads only add waiting on a busy CPU
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def backend():
    from test_generate import sharp_tiny

    model, tok = sharp_tiny()
    return HFBackend(
        model, tok, batch_size=8, autocast=False, name="sharp-tiny", show_progress=False
    )


# --------------------------------------------------------------------------- pure helpers
def test_extract_code():
    assert (
        extract_code("Sure.\n```python\nx = 2\nprint(x)\n```\nThat prints 2.") == "x = 2\nprint(x)"
    )
    assert extract_code("```python\nprint(1)\n```\n```python\nprint(2)\n```") == "print(1)"
    assert extract_code("```\nprint(3)\n```") == "print(3)"
    assert (
        extract_code("```python\nprint(4)\n# cut off by the token limit")
        == "print(4)\n# cut off by the token limit"
    )
    assert extract_code("a = 5\nprint(a)") == "a = 5\nprint(a)"


def test_last_python_block_and_output_block():
    text = "```python\nprint(1)\n```\n```output\n1\n```\nthen\n```python\nprint(2)\n```\n"
    assert last_python_block(text) == "print(2)"
    assert last_python_block("no code") is None
    ok = SandboxResult(ok=True, stdout="42\n")
    assert tir_output_block(ok) == "```output\n42\n```\n"
    err = SandboxResult(ok=False, stdout="partial\n", error="ZeroDivisionError: division by zero")
    assert tir_output_block(err) == "```output\npartial\nZeroDivisionError: division by zero\n```\n"
    long = tir_output_block(SandboxResult(ok=True, stdout="7" * 2000), output_chars=100)
    assert long.count("7") == 100 and "truncated" in long


def test_print_last_expression_and_program_answer():
    from mathlab.sandbox import run_code

    assert print_last_expression("print(1)") == "print(1)"
    assert print_last_expression("x = 1") == "x = 1"
    assert print_last_expression("def f(:") == "def f(:"
    assert run_code(print_last_expression("x = 6\nx * 7")).stdout == "42\n"
    # a main() that prints and returns None adds no "None" line
    code = "def main():\n    print(5)\nmain()"
    assert run_code(print_last_expression(code)).stdout == "5\n"
    assert program_answer("5\nNone\n") is None
    assert program_answer("step 1\n\n 24 \n\n") == "24"
    assert program_answer("The answer is: 3.5\n") == "3.5"
    assert program_answer("") is None


def test_calc_resume_inserts_exact_values():
    # stopped right after `<<expr=` (the HF stop pattern): the value and `>>` are written
    assert calc_resume("He pays 3 * 4 = <<3*4=", "<<3*4=") == ("He pays 3 * 4 = <<3*4=12>>", "12")
    assert calc_resume("<<100/3=", "<<100/3=") == ("<<100/3=33.333333>>", "33.333333")
    assert calc_resume("<<2*(3+4)-1=", "<<2*(3+4)-1=")[1] == "13"
    # stopped at `>>` (other backends): the model's own value is replaced by the right one
    assert calc_resume("so <<48/2=25", ">>") == ("so <<48/2=24>>", "24")
    assert calc_resume("so <<48/2=24", ">>") == ("so <<48/2=24>>", "24")
    # not arithmetic: nothing computed, the model goes on by itself
    assert (
        calc_resume("<<__import__('os').system('x')=", "<<__import__('os').system('x')=")[1] is None
    )
    assert calc_resume("<<apples=", "<<apples=") == ("<<apples=", None)
    assert calc_resume("a >> b and <<7", ">>") == ("a >> b and <<7>>", None)
    # the stop pattern matches exactly the open annotation
    assert re.search(CALC_STOP_REGEX, "x = 5 so <<5*2=").group(0) == "<<5*2="
    assert re.search(CALC_STOP_REGEX, "x = 3, y = 4 and <<5>> z") is None


# --------------------------------------------------------------------------- loops on a real model
def test_calc_loop_inserts_the_value_and_resumes(backend):
    prefix = "Half of 48 is <<48/2="
    prompts = [ChatPrompt(cot_messages("Half of 48?"), prefix), cot_messages("Twice 21?")]
    out = tool_loop(backend, prompts, "calc", SamplingParams(max_new_tokens=12))
    first = out[0][0]
    assert first.text.startswith("Half of 48 is <<48/2=24>>")
    assert len(first.text) > len("Half of 48 is <<48/2=24>>")  # generation resumed after it
    assert first.tool_calls >= 1 and 1 <= first.n_tokens <= 12
    assert find_annotations(first.text)[0][:2] == ("48/2", "24")
    assert len(out) == 2 and out[1][0].n_tokens <= 12


def test_tir_loop_runs_the_program_and_resumes(backend):
    prefix = "Let me compute.\n```python\nx = 6\nprint(x * 7)\n```\n"
    out = tool_loop(
        backend,
        [ChatPrompt(messages_for("6 times 7?", "tir"), prefix)],
        "tir",
        SamplingParams(max_new_tokens=10),
    )
    r = out[0][0]
    assert r.text.startswith(prefix + "```output\n42\n```\n")
    assert r.tool_calls == 1 and r.error is None and r.n_tokens <= 10


def test_tir_loop_shows_errors_to_the_model(backend):
    prefix = "```python\nprint(1/0)\n```\n"
    r = tool_loop(
        backend,
        [ChatPrompt(messages_for("1/0?", "tir"), prefix)],
        "tir",
        SamplingParams(max_new_tokens=4),
    )[0][0]
    assert "ZeroDivisionError" in r.text and r.error and "ZeroDivisionError" in r.error


def test_loops_respect_the_token_budget_with_samples(backend):
    s = SamplingParams(n=3, temperature=1.0, max_new_tokens=9, seed=1)
    for style in ("calc", "tir"):
        out = solve(backend, ["What is 2+2?", "What is 3*3?"], style, s)
        assert [len(row) for row in out] == [3, 3]
        assert all(r.n_tokens <= 9 and r.style == style for row in out for r in row)
    assert solve(backend, ["What is 2+2?"], "calc", s) == solve(
        backend, ["What is 2+2?"], "calc", s
    )


def test_pot_runs_programs_and_hybrid_falls_back_to_cot(backend):
    s = SamplingParams(max_new_tokens=8)
    pot = solve(backend, ["What is 2+2?", "What is 3*3?"], "pot", s)
    for row in pot:  # a random model writes no valid program: an error, not a crash
        r = row[0]
        assert r.style == "pot" and r.tool_calls == 1 and r.pred is None and r.error
        assert r.meta["program"] == extract_code(r.text)
    hybrid = solve(backend, ["What is 2+2?", "What is 3*3?"], "hybrid", s)
    cot = solve(backend, ["What is 2+2?", "What is 3*3?"], "cot", s)
    for h, p, c in zip(hybrid, pot, cot):
        assert h[0].style == "cot" and h[0].meta["pot_text"] == p[0].text
        assert h[0].n_tokens == p[0].n_tokens + c[0].n_tokens
    # a greedy CoT fallback writes what plain CoT writes for the same question
    assert [h[0].text for h in hybrid] == [c[0].text for c in cot]


def test_solve_accepts_problems_and_rejects_bad_input(backend):
    from mathlab.data.records import Problem

    p = Problem("t-0", "What is 1+1?", "2", source="t", split="test")
    assert len(solve(backend, [p], "cot", SamplingParams(max_new_tokens=2))) == 1
    assert solve(backend, [], "cot") == []
    with pytest.raises(ValueError, match="unknown style"):
        solve(backend, ["q"], "direct")
    with pytest.raises(TypeError, match=r"problems\[0\]"):
        solve(backend, [3], "cot")
    with pytest.raises(TypeError, match="chat prompts"):
        tool_loop(backend, ["raw text"], "calc")


@pytest.mark.slow
def test_calculator_loop_with_the_embedded_model():
    """One real run: SmolLM2 continues a solution after the loop filled in `<<36-5=31>>`."""
    from mathlab.generate import get_backend

    b = get_backend("smollm2-135m-instruct", show_progress=False)
    question = "Tom has 3 boxes with 12 apples each. He eats 5 apples. How many apples are left?"
    prefix = "He has 3 * 12 = <<3*12=36>>36 apples. After eating 5, he has 36 - 5 = <<36-5="
    r = tool_loop(
        b, [ChatPrompt(cot_messages(question), prefix)], "calc", SamplingParams(max_new_tokens=40)
    )[0][0]
    assert r.text.startswith(prefix + "31>>")
    assert r.tool_calls >= 1
    anns = find_annotations(r.text)
    assert [a.value_text for a in anns[:2]] == ["36", "31"]
    assert all(check_annotation(a.expr, a.value_text) for a in anns)  # every value the loop wrote
