"""Instruction evolution with a language model: bad rewrites are eliminated with their reason,
runs over the tiny model and over a real local OpenAI-compatible server complete."""

from __future__ import annotations

import doctest
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mathlab.answers import extract_answer
from mathlab.data.generator import generate_problems
from mathlab.data.records import Problem
from mathlab.evolve import llm, prompts
from mathlab.evolve.eliminate import REASONS, count_reasons, kept
from mathlab.evolve.llm import (
    answer_augmentation,
    children_from_outputs,
    evolve_backward,
    evolve_llm,
    fobar_text,
    parse_rewrite,
    sv_text,
    verify_backward,
    verify_children,
    vote,
)
from mathlab.evolve.prompts import PROMPTS, rewrite_messages
from mathlab.generate import OpenAIBackend, get_backend
from mathlab.styles import StyleResult

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[1]
PARENT = Problem(
    "gsm8k-1",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of "
    "babysitting. How much did she earn?",
    "10",
    "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\n#### 10",
    "gsm8k",
)
GOOD = (
    "Weng earns $15 an hour for babysitting and $10 an hour for tutoring. Yesterday she "
    "babysat for 40 minutes and tutored for 90 minutes. How much did she earn in all?"
)
FAST = {"k_solves": 3, "max_new_tokens": 24}


@pytest.fixture(scope="module")
def tiny():
    return get_backend("tiny-random", show_progress=False)


@pytest.fixture(scope="module")
def parents():
    return generate_problems(8, seed=3, max_steps=3)


def check_rows(result, n_children):
    counts = result.counts()
    assert len(result.children) == n_children == counts["children"]
    assert sum(counts[r] for r in ("kept", *REASONS)) == n_children
    assert counts == {**counts, **count_reasons(result.children)}
    for c in result.children:
        assert c.meta["eliminated_reason"] in (None, *REASONS)
        assert c.meta["backend"] == "llm" and c.meta["evolve_op"] == result.op
        assert c.meta["parent_id"] and c.source == "evolve"
    for c in kept(result.children):
        c.validate()
        assert c.solution.endswith(f"#### {c.answer}")
    return counts


# --------------------------------------------------------------------------- prompts, parsing
def test_prompt_table():
    assert set(PROMPTS) == {
        "add_constraint",
        "deepen",
        "concretize",
        "more_steps",
        "downward",
        "breadth",
        "decompose",
        "mutate",
        "rephrase",
    }
    for op, p in PROMPTS.items():
        assert p.template.count("{question}") == 1, op
        assert p.paper in ("WizardMath", "KwaiYiiMath", "MetaMath")
        content = rewrite_messages(op, r"Find $\frac{1}{2}$ of {x}.")[0]["content"]
        assert r"Find $\frac{1}{2}$ of {x}." in content
    with pytest.raises(ValueError, match="unknown rewriting operator"):
        rewrite_messages("shout", "q")


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (None, None),
        ("", None),
        ("  \n ", None),
        ("Sure!", None),
        ("#Rewritten Prompt#:", None),
        ("Sure! Here is the rewritten problem:\n\n" + GOOD, GOOD),
        ("#Rewritten Prompt#:\n" + GOOD, GOOD),
        ("**Rewritten problem:** " + GOOD + "\n\n**Answer:** 32.5", GOOD),
        (f"```\n{GOOD}\n```", GOOD),
        (f"Here's a harder version:\n“{GOOD}”", GOOD),
        ("Question: " + GOOD, GOOD),
        ("Problems arise when Tom buys 3 apples.", "Problems arise when Tom buys 3 apples."),
    ],
)
def test_parse_rewrite(raw, parsed):
    assert parse_rewrite(raw) == parsed


def test_bad_teacher_outputs_are_eliminated_with_their_reason():
    outputs = [
        "",
        "Sure! Here is the rewritten problem:",
        "?!... ---",
        "I'm sorry, but as an AI language model I cannot rewrite this problem.",
        "#The Given Prompt#:\n" + PARENT.question + "\n#Rewritten Prompt#:\n" + GOOD,
        "Rewritten problem: " + PARENT.question,
        ConnectionError("the teacher went away"),
        "Sure! Here is the rewritten problem:\n" + GOOD,
        GOOD,
    ]
    children = children_from_outputs([PARENT] * len(outputs), "deepen", outputs, "teacher")
    reasons = [c.meta["eliminated_reason"] for c in children]
    assert reasons == [
        "unparseable",
        "unparseable",
        "punctuation_only",
        "refusal",
        "copied_template",
        "no_gain",
        "unparseable",
        None,
        "duplicate",
    ]
    assert children[6].meta["eliminated_detail"] == "ConnectionError: the teacher went away"
    assert children[3].meta["rewrite_raw"].startswith("I'm sorry")
    assert children[7].question == GOOD and children[7].id == "gsm8k-1~deepen"
    meta = children[7].meta
    assert (meta["paper"], meta["direction"], meta["rewriter"]) == ("WizardMath", "up", "teacher")


# --------------------------------------------------------------------------- the vote
def solves(*texts):
    return [StyleResult(t, extract_answer(t), 10) for t in texts]


def test_vote_keeps_a_strict_majority_only():
    v = vote(
        solves("15 * 2 = 30.\nThe answer is: 30", "So 30.0 dollars. The answer is: 30.0", "no idea")
    )
    assert (v.reason, v.answer) == (None, "30")
    assert v.solution == "15 * 2 = 30.\n#### 30" and v.votes == ["30", "30.0", None]
    split = vote(solves("The answer is: 30", "The answer is: 31", "The answer is: 32"))
    assert (split.reason, split.detail) == ("unverified", "2 of 3 solves disagree")
    tie = vote(solves("The answer is: 30", "The answer is: 31"))
    assert (tie.reason, tie.detail) == ("unverified", "1 of 2 solves disagree")
    none = vote(solves("I cannot tell.", "no idea"))
    assert (none.reason, none.detail) == ("unverified", "no answer in 2 solves")


def test_vote_against_an_expected_answer():
    agreed = solves("The answer is: 1,000", "The answer is: 1000", "The answer is: 7")
    assert vote(agreed, expected="1000").answer == "1000"
    wrong = vote(agreed, expected="999")
    assert wrong.reason == "unverified" and "not the expected 999" in wrong.detail


def test_a_wrong_rephrase_is_unverified_by_a_real_solver(tiny):
    parent = Problem("p-1", "Ann has 2 apples and buys 3 more. How many apples has she?", "98765")
    rephrased = "Ann owns 2 apples. She then purchases 3 additional apples. How many apples now?"
    children = children_from_outputs([parent], "rephrase", [rephrased], tiny.name)
    assert children[0].meta["eliminated_reason"] is None
    [child] = verify_children(
        children, tiny, expected=[parent.answer], k_solves=3, max_new_tokens=24
    )
    assert child.meta["eliminated_reason"] == "unverified"
    assert len(child.meta["votes"]) == 3 and child.meta["eliminated_detail"]


# --------------------------------------------------------------------------- end to end
def test_tiny_model_end_to_end(tiny, parents, capsys):
    result = evolve_llm(parents[:4], "deepen", tiny, batch_size=2, **FAST)
    counts = check_rows(result, 4)
    assert counts["op"] == "deepen" and counts["parents"] == 4
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("evolve deepen")]
    assert len(lines) == 2 and "batch 2/2, 4/4 parents" in lines[-1]
    for c in result.children:
        if c.meta["eliminated_reason"] == "unverified":
            assert len(c.meta["votes"]) == 3


def test_answer_augmentation(tiny, parents):
    result = answer_augmentation(parents[:2], tiny, k=2, max_new_tokens=24)
    check_rows(result, 4)
    assert [c.id for c in result.children][:2] == [
        f"{parents[0].id}~answer_aug-{j}" for j in (0, 1)
    ]
    assert all(c.question == parents[0].question for c in result.children[:2])
    wrong = [c for c in result.children if c.meta["eliminated_reason"] == "unverified"]
    assert all(c.meta["eliminated_detail"] in ("wrong answer", "no answer") for c in wrong)


def test_programming_errors_are_raised(tiny, parents):
    with pytest.raises(TypeError, match="rewriter must be a generation backend"):
        evolve_llm(parents[:1], "deepen", "tiny-random")
    with pytest.raises(ValueError, match="unknown rewriting operator"):
        evolve_llm(parents[:1], "fobar", tiny)
    with pytest.raises(ValueError, match="unknown style 'cott'"):
        answer_augmentation(parents[:1], tiny, style="cott")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url():
    """``python -m mathlab.openai_server --model tiny-random`` in a subprocess."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "mathlab.openai_server", "--model", "tiny-random"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited: {proc.stdout.read().decode()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the server did not answer within 120 s")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_openai_server_end_to_end(server_url, parents):
    rewriter = get_backend("tiny-random", kind="openai", base_url=server_url, max_workers=2)
    assert isinstance(rewriter, OpenAIBackend)
    result = evolve_llm(parents[:3], "mutate", rewriter, **FAST)
    counts = check_rows(result, 3)
    assert counts["unparseable"] < 3  # the requests were answered
    assert all(c.meta["rewriter"] == "tiny-random" for c in result.children)


def test_a_failing_endpoint_eliminates_each_child(parents):
    dead = OpenAIBackend(
        "x", base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=0, timeout=5
    )
    result = evolve_llm(parents[:2], "breadth", dead, **FAST)
    counts = check_rows(result, 2)
    assert counts["unparseable"] == 2
    assert all("OpenAIError" in c.meta["eliminated_detail"] for c in result.children)


# --------------------------------------------------------------------------- FOBAR / SV
GSM8K = [
    Problem(
        "gsm8k-0",
        "Natalia sold clips to 48 of her friends in April, and then she sold half as many "
        "clips in May. How many clips did Natalia sell altogether in April and May?",
        "72",
        source="gsm8k",
    ),
    PARENT,
    Problem(
        "gsm8k-2",
        "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in "
        "total does it take?",
        "3",
        source="gsm8k",
    ),
]


def test_fobar_and_sv_on_real_text():
    f = fobar_text(GSM8K[0])
    assert f.question == (
        "Natalia sold clips to x of her friends in April, and then she sold half as many clips "
        "in May. How many clips did Natalia sell altogether in April and May? If we know the "
        "answer to the above question is 72, what is the value of unknown variable x?"
    )
    assert (f.answer, f.id, f.meta["evolve_op"]) == ("48", "gsm8k-0~fobar", "fobar")
    s = sv_text(GSM8K[0])
    assert s.question == (
        "Natalia sold clips to x of her friends in April, and then she sold half as many clips "
        'in May. The answer to "How many clips did Natalia sell altogether in April and May?" '
        "is 72. What is the value of unknown variable x?"
    )
    assert s.answer == "48" and s.meta["sv_form"] == "quoted"
    # FOBAR and SV mask the same number for one parent and seed; the seed picks among several
    masked = {fobar_text(PARENT, seed).answer for seed in range(8)}
    assert masked == {"12", "50"} and sv_text(PARENT, 5).answer == fobar_text(PARENT, 5).answer


@pytest.mark.parametrize(
    "question",
    [
        "What is the sum of the first ten prime numbers?",  # no number
        "Tom has 3 apples and 3 pears. How many fruits does he have?",  # each number twice
        "It is 3:30 now and the film lasts 1/2 of an hour. When does it end?",  # no whole number
        "Solve 2x + 3 = 11 for x, then add 5.",  # already has an x
    ],
)
def test_no_maskable_number(question):
    parent = Problem("q-1", question, "1")
    assert fobar_text(parent) is None and sv_text(parent) is None


def test_backward_verification_with_a_real_solver(tiny):
    children = [fobar_text(GSM8K[0]), None, sv_text(GSM8K[2])]
    rows = verify_backward(children, tiny, 3, max_new_tokens=24)
    assert [r.meta["eliminated_reason"] for r in rows] == ["unverified", "unverified"]
    assert [r.answer for r in rows] == ["48", "2"]  # the masked number stays the answer
    assert all(r.meta["rewriter"] == tiny.name and not r.solution for r in rows)
    result = evolve_backward(
        [*GSM8K, Problem("q", "Name a prime number, please.", "2")], "sv", tiny, **FAST
    )
    assert result.counts()["skipped_by"] == {"no_maskable_number": 1}
    check_rows(result, 3)


def test_doctests():
    for module in (llm, prompts):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0
