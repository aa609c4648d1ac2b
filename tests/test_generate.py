"""Generation backends on real models: tiny-random (fast) and an OpenAI endpoint served locally."""

from __future__ import annotations

import os

import pytest
import torch

from mathlab.generate import (
    ChatPrompt,
    Completion,
    HFBackend,
    OpenAIBackend,
    OpenAIError,
    SamplingParams,
    get_backend,
    render_prompt,
)
from mathlab.openai_server import OpenAIServer

QUESTIONS = [
    "What is 2 + 3?",
    "Tom has 12 apples and gives 5 away. How many are left? Think step by step and explain.",
    "Compute 7 * 8.",
    "A train travels 60 km per hour for 3 hours, then 40 km per hour for 2 hours. How far does it go?",
    "Name a prime.",
    "If a book costs 15 dollars and a pen costs 2 dollars, how much do 3 books and 4 pens cost?",
    "Why?",
]


def sharp_tiny(seed: int = 0):
    """tiny-random with its weights scaled up: still a real 2-layer Llama, but its greedy
    output depends on the prompt (the plain random init repeats one token whatever the input)."""
    from mathlab.models import load_model, load_tokenizer

    model = load_model("tiny-random", seed=seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.mul_(20)
    return model, load_tokenizer("tiny-random")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The tiny model's ops are too small to gain from threads; on a busy shared CPU a second
    thread makes every op wait for a descheduled peer (20x slower). Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pair():
    return sharp_tiny()


@pytest.fixture(scope="module")
def backend(pair):
    model, tok = pair
    return HFBackend(
        model, tok, batch_size=3, autocast=False, name="sharp-tiny", show_progress=False
    )


def chats(questions=QUESTIONS):
    return [[{"role": "user", "content": q}] for q in questions]


def test_batched_greedy_matches_one_at_a_time_in_original_order(backend):
    sampling = SamplingParams(max_new_tokens=12)
    batched = backend.generate(chats(), sampling)
    single = [backend.generate([c], sampling)[0] for c in chats()]
    assert [b[0].text for b in batched] == [s[0].text for s in single]
    assert [b[0].n_tokens for b in batched] == [s[0].n_tokens for s in single]
    assert len({b[0].text for b in batched}) == len(QUESTIONS)  # outputs differ: order is checkable
    reversed_out = backend.generate(chats()[::-1], sampling)
    assert [r[0].text for r in reversed_out] == [b[0].text for b in batched][::-1]
    assert all(b[0].finish_reason == "length" and b[0].n_tokens == 12 for b in batched)


def test_batch_size_does_not_change_fp32_greedy(pair):
    model, tok = pair
    sampling = SamplingParams(max_new_tokens=10)
    outs = [
        HFBackend(model, tok, batch_size=bs, autocast=False, show_progress=False).generate(
            chats(), sampling
        )
        for bs in (1, 4, 32)
    ]
    assert outs[0] == outs[1] == outs[2]


def test_stop_string_truncates_and_counts_tokens(backend):
    full = backend.generate(chats()[:3], SamplingParams(max_new_tokens=16))
    text = full[1][0].text
    stop = text[len(text) // 2 : len(text) // 2 + 3]
    assert stop.strip()
    out = backend.generate(chats()[:3], SamplingParams(max_new_tokens=16, stop=[stop, "\x00never"]))
    c = out[1][0]
    assert c.text == text[: text.index(stop)]
    assert c.finish_reason == "stop" and c.stop == stop
    assert 1 <= c.n_tokens < 16
    # the tokens up to and including the stop string, re-counted from the text
    assert abs(c.n_tokens - backend.count_tokens(text[: text.index(stop) + len(stop)])) <= 1
    # the other prompts are unaffected unless the stop string occurs in them too
    for i in (0, 2):
        other = full[i][0].text
        expected = other[: other.index(stop)] if stop in other else other
        assert out[i][0].text == expected


def test_stop_regex_keeps_the_match(backend):
    full = backend.generate(chats()[:1], SamplingParams(max_new_tokens=16))[0][0].text
    anchor = full[3:6]
    out = backend.generate(
        chats()[:1], SamplingParams(max_new_tokens=16, stop_regex=[__import__("re").escape(anchor)])
    )
    c = out[0][0]
    assert c.text == full[: full.index(anchor) + len(anchor)]
    assert c.finish_reason == "stop" and c.stop == anchor


def test_same_seed_same_samples(backend):
    s = SamplingParams(n=3, temperature=1.0, max_new_tokens=8, seed=7)
    a = backend.generate(chats()[:4], s)
    b = backend.generate(chats()[:4], s)
    c = backend.generate(chats()[:4], s.replace(seed=8))
    assert a == b
    assert a != c
    assert all(len(row) == 3 for row in a)
    assert any(len({x.text for x in row}) > 1 for row in a)  # samples of one prompt differ
    # sampling does not disturb the caller's global RNG
    torch.manual_seed(1)
    before = torch.rand(1)
    torch.manual_seed(1)
    backend.generate(chats()[:1], s)
    assert torch.equal(torch.rand(1), before)


def test_greedy_n_copies_one_generation(backend):
    out = backend.generate(chats()[:2], SamplingParams(n=3, max_new_tokens=6))
    assert all(len(row) == 3 and row[0] == row[1] == row[2] for row in out)


def test_chat_prefix_continues_the_assistant_turn(backend, pair):
    _, tok = pair
    full = backend.generate(chats()[:1], SamplingParams(max_new_tokens=16))[0][0]
    # split the greedy output at a token boundary; continuing it must give the rest
    text, _ = render_prompt(tok, chats()[0])
    prompt_ids = tok(text, add_special_tokens=False)["input_ids"]
    full_ids = tok(text + full.text, add_special_tokens=False)["input_ids"]
    gen_ids = full_ids[len(prompt_ids) :]
    prefix = tok.decode(gen_ids[:6])
    rest = backend.generate([ChatPrompt(chats()[0], prefix)], SamplingParams(max_new_tokens=10))[0][
        0
    ]
    assert prefix + rest.text == full.text
    assert rest.n_tokens == 10
    # the (messages, prefix) tuple form is the same prompt
    assert backend.generate([(chats()[0], prefix)], SamplingParams(max_new_tokens=10))[0][0] == rest


def test_raw_text_prompt_is_used_as_is(backend, pair):
    _, tok = pair
    text, templated = render_prompt(tok, chats()[2])
    assert templated and text.endswith("<|im_start|>assistant\n")
    sampling = SamplingParams(max_new_tokens=8)
    assert backend.generate([text], sampling) == backend.generate(chats()[2:3], sampling)


def test_in_memory_model_keeps_its_training_mode(pair):
    model, tok = pair
    model.train()
    try:
        b = get_backend((model, tok), kind="hf", autocast=False, show_progress=False)
        assert isinstance(b, HFBackend)
        b.generate(chats()[:1], SamplingParams(max_new_tokens=2))
        assert model.training
    finally:
        model.eval()
    assert get_backend(b) is b
    with pytest.raises(TypeError, match="tokenizer"):
        get_backend(model)


def test_bf16_autocast_runs(pair, monkeypatch):
    model, tok = pair
    b = HFBackend(model, tok, autocast=True, show_progress=False)
    assert b._autocast_on(SamplingParams()) and b._autocast_on(SamplingParams(temperature=1.0))
    # default: exact fp32 greedy; sampling in bf16 only where the CPU has fast native bf16
    auto = HFBackend(model, tok, show_progress=False)
    for fast_bf16 in ("1", "0"):
        monkeypatch.setenv("MATHLAB_CPU_BF16", fast_bf16)
        assert not auto._autocast_on(SamplingParams())
        assert auto._autocast_on(SamplingParams(temperature=1.0)) == (fast_bf16 == "1")
    assert not HFBackend(model, tok, autocast=False)._autocast_on(SamplingParams(temperature=1.0))
    out = b.generate(chats()[:2], SamplingParams(max_new_tokens=5))
    assert all(o[0].n_tokens == 5 for o in out)
    assert next(model.parameters()).dtype == torch.float32  # weights untouched


def test_spec_string_backend():
    b = get_backend("tiny-random", kind="hf", autocast=False, batch_size=4)
    assert isinstance(b, HFBackend)
    assert b.name == "tiny-random" and b.batch_size == 4
    out = b.generate(chats()[:2], SamplingParams(max_new_tokens=3))
    assert [len(row) for row in out] == [1, 1]
    assert all(
        isinstance(o[0], Completion) and o[0].finish_reason in ("length", "eos") for o in out
    )


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="temperature"):
        SamplingParams(temperature=-1)
    with pytest.raises(ValueError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=0)
    with pytest.raises(ValueError, match="stop_regex"):
        SamplingParams(stop_regex=["("])
    with pytest.raises(ValueError, match="n="):
        SamplingParams(n=0)
    assert SamplingParams(stop="\n").stop == ["\n"]
    with pytest.raises(TypeError, match=r"prompts\[1\]: message 0"):
        from mathlab.generate import as_chat_prompt

        as_chat_prompt([{"role": "user"}], "prompts[1]")
    with pytest.raises(ValueError, match="unknown backend kind"):
        get_backend("tiny-random", kind="tgi")


# --------------------------------------------------------------------------- OpenAI endpoint
@pytest.fixture(scope="module")
def server(backend):
    with OpenAIServer(backend, model_name="sharp-tiny", api_key="sekret") as srv:
        yield srv


@pytest.fixture()
def client(server, monkeypatch):
    monkeypatch.setenv("MATHLAB_TEST_KEY", "sekret")
    return OpenAIBackend(
        "sharp-tiny",
        base_url=server.base_url,
        api_key_env="MATHLAB_TEST_KEY",
        timeout=60,
        max_workers=4,
        max_retries=0,
    )


def test_openai_backend_matches_the_model_behind_the_server(client, backend, server):
    prompts = chats()[:3] + [
        ChatPrompt(chats()[0], "Sure"),
        render_prompt(backend.tokenizer, chats()[1])[0],
    ]
    sampling = SamplingParams(max_new_tokens=8)
    before = server.requests_served
    assert client.generate(prompts, sampling) == backend.generate(prompts, sampling)
    assert server.requests_served - before == len(prompts)


def test_openai_backend_stop_and_samples(client, backend):
    full = backend.generate(chats()[:1], SamplingParams(max_new_tokens=12))[0][0].text
    stop = full[4:7]
    out = client.generate(chats()[:1], SamplingParams(max_new_tokens=12, stop=[stop]))[0][0]
    assert out.text == full[: full.index(stop)] and out.finish_reason == "stop" and out.stop == stop
    s = SamplingParams(n=2, temperature=1.0, max_new_tokens=6, seed=3)
    a, b = client.generate(chats()[:2], s), client.generate(chats()[:2], s)
    assert a == b and all(len(row) == 2 for row in a)


def test_openai_backend_reports_http_errors(server, monkeypatch):
    monkeypatch.delenv("MATHLAB_NO_KEY", raising=False)
    nokey = OpenAIBackend(
        "sharp-tiny", base_url=server.base_url, api_key_env="MATHLAB_NO_KEY", max_retries=0
    )
    with pytest.raises(OpenAIError, match="HTTP 401"):
        nokey.generate(chats()[:1], SamplingParams(max_new_tokens=2))
    # nothing listens on the server's port once a second server there is closed
    with OpenAIServer(server.backend) as tmp:
        url = tmp.base_url
    dead = OpenAIBackend("x", base_url=url, max_retries=0, timeout=5)
    with pytest.raises(OpenAIError, match="failed"):
        dead.generate(chats()[:1], SamplingParams(max_new_tokens=2))
    with pytest.raises(ValueError, match="base_url"):
        OpenAIBackend("x", base_url="localhost:8000")


@pytest.mark.slow
def test_eos_and_min_new_tokens_with_the_embedded_model():
    b = get_backend("smollm2-135m-instruct", show_progress=False)
    say_hi = [[{"role": "user", "content": "Say hi in five words."}]]
    natural = b.generate(say_hi, SamplingParams(max_new_tokens=40))[0][0]
    assert natural.finish_reason == "eos" and natural.n_tokens < 40
    forced = b.generate(say_hi, SamplingParams(max_new_tokens=40, min_new_tokens=40))[0][0]
    assert forced.finish_reason == "length" and forced.n_tokens == 40
    assert forced.text.startswith(natural.text)  # the same greedy path until EOS was suppressed


# --------------------------------------------------------------------------- vLLM
def test_vllm_backend_matches_greedy_hf():
    pytest.importorskip("vllm", reason="vLLM is not installed (pip install -e '.[gpu]')")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU; none here")
    vb = get_backend(
        "smollm2-135m-instruct", kind="vllm", dtype="float32", gpu_memory_utilization=0.3
    )
    hb = get_backend("smollm2-135m-instruct", device="cuda", dtype="float32")
    sampling = SamplingParams(max_new_tokens=24, stop=["\n\n"])
    v, h = vb.generate(chats()[:3], sampling), hb.generate(chats()[:3], sampling)
    assert sum(a[0].text == b[0].text for a, b in zip(v, h)) >= 2
    assert os.environ.get("CUDA_VISIBLE_DEVICES") != ""
