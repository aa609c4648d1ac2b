"""The fast sampler (mathlab.engine) against the HF reference, on a real tiny Llama."""

from __future__ import annotations

import re

import pytest
import torch

from mathlab.engine import FastBackend, _draw, greedy_agreement, unsupported_reason
from mathlab.generate import ChatPrompt, HFBackend, SamplingParams, get_backend

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUESTIONS = [
    "What is 2 + 3?",
    "Tom has 12 apples and gives 5 away. How many are left? Think step by step and explain.",
    "Compute 7 * 8.",
    "A train travels 60 km per hour for 3 hours, then 40 km per hour for 2 hours. How far?",
    "Name a prime.",
    "If a book costs 15 dollars and a pen costs 2 dollars, what do 3 books and 4 pens cost?",
    "Why?",
]


def chats(questions=QUESTIONS):
    return [[{"role": "user", "content": q}] for q in questions]


def sharp_tiny(seed: int = 0):
    """tiny-random with its weights scaled up, so its greedy output depends on the prompt."""
    from mathlab.models import load_model, load_tokenizer

    model = load_model("tiny-random", seed=seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.mul_(20)
    return model, load_tokenizer("tiny-random")


@pytest.fixture(scope="module")
def pair():
    return sharp_tiny()


@pytest.fixture(scope="module")
def hf(pair):
    model, tok = pair
    return HFBackend(model, tok, batch_size=4, autocast=False, show_progress=False)


@pytest.fixture(scope="module")
def fast(pair):
    model, tok = pair
    return FastBackend(model, tok, slots=8, show_progress=False)


def texts(out):
    return [row[0].text for row in out]


def test_greedy_matches_the_hf_reference(fast, hf):
    for n in (1, 7, 20):
        s = SamplingParams(max_new_tokens=n)
        a, b = fast.generate(chats(), s), hf.generate(chats(), s)
        assert texts(a) == texts(b)
        assert [r[0].n_tokens for r in a] == [r[0].n_tokens for r in b]
        assert [r[0].finish_reason for r in a] == [r[0].finish_reason for r in b]
    assert len(set(texts(a))) == len(QUESTIONS)  # the outputs differ: order is checkable
    agreement = greedy_agreement(hf, fast, chats(), max_new_tokens=12)
    assert agreement["identical"] == len(QUESTIONS) and agreement["rate"] == 1.0


def test_continuous_batching_does_not_change_greedy(pair):
    model, tok = pair
    s = SamplingParams(max_new_tokens=15)
    outs = [
        FastBackend(model, tok, slots=k, show_progress=False).generate(chats(), s)
        for k in (1, 2, 3, 32)
    ]
    assert outs[0] == outs[1] == outs[2] == outs[3]


def test_stop_strings_and_patterns_like_hf(fast, hf):
    full = texts(hf.generate(chats()[:3], SamplingParams(max_new_tokens=16)))
    stop = full[1][len(full[1]) // 2 : len(full[1]) // 2 + 3]
    assert stop.strip()
    s = SamplingParams(max_new_tokens=16, stop=[stop, "\x00never"])
    a, b = fast.generate(chats()[:3], s), hf.generate(chats()[:3], s)
    assert a == b
    assert a[1][0].finish_reason == "stop" and a[1][0].stop == stop
    assert a[1][0].text == full[1][: full[1].index(stop)]
    anchor = full[0][3:6]
    s = SamplingParams(max_new_tokens=16, stop_regex=[re.escape(anchor)])
    a, b = fast.generate(chats()[:1], s), hf.generate(chats()[:1], s)
    assert a == b and a[0][0].text == full[0][: full[0].index(anchor) + len(anchor)]


def test_min_new_tokens_and_eos(pair):
    model, tok = pair
    fast = FastBackend(model, tok, slots=4, show_progress=False)
    hf = HFBackend(model, tok, batch_size=4, autocast=False, show_progress=False)
    plain = fast.generate(chats()[:2], SamplingParams(max_new_tokens=8, logprobs=True))
    # call the third token the first prompt generates "end of turn": greedy now ends there
    eos = plain[0][0].token_ids[2]
    fast.eos_token_ids = hf.eos_token_ids = [eos]
    out = fast.generate(chats()[:2], SamplingParams(max_new_tokens=8))
    assert out[0][0].finish_reason == "eos" and out[0][0].n_tokens <= 3
    assert out == hf.generate(chats()[:2], SamplingParams(max_new_tokens=8))
    forced = SamplingParams(max_new_tokens=8, min_new_tokens=6)
    a, b = fast.generate(chats()[:2], forced), hf.generate(chats()[:2], forced)
    assert a == b
    assert all(r[0].n_tokens >= 6 for r in a)


def test_seeds_reproduce_and_do_not_depend_on_the_batch(fast, pair):
    model, tok = pair
    s = SamplingParams(n=3, temperature=1.0, max_new_tokens=10, seed=7)
    a = fast.generate(chats(), s)
    assert a == fast.generate(chats(), s)
    assert a != fast.generate(chats(), s.replace(seed=8))
    assert all(len(row) == 3 for row in a)
    assert any(len({c.text for c in row}) > 1 for row in a)  # samples of one prompt differ
    # each sample draws from its own stream (seed, prompt, sample), so its text does not
    # depend on what else shares the batch or on the number of slots. Not bitwise: logits
    # computed in batches of other sizes differ in the last bits, which can move an
    # inverse-CDF draw to the neighbouring token when u falls on a boundary (3 of 21
    # samples at T=1 on this flat random model; none at T=0.7). One shared stream would
    # change nearly every sample.
    s07 = s.replace(temperature=0.7)
    full = fast.generate(chats(), s07)
    fewer = FastBackend(model, tok, slots=2, show_progress=False).generate(chats(), s07)
    alone = FastBackend(model, tok, slots=2, show_progress=False).generate(chats()[:2], s07)
    pairs = [(x, y) for r1, r2 in zip(full, fewer) for x, y in zip(r1, r2)]
    assert sum(x.text == y.text for x, y in pairs) >= len(pairs) - 2
    assert sum(x.text == y.text for r1, r2 in zip(full, alone) for x, y in zip(r1, r2)) >= 5
    # the caller's global RNG is not touched
    torch.manual_seed(1)
    before = torch.rand(1)
    torch.manual_seed(1)
    fast.generate(chats()[:1], s)
    assert torch.equal(torch.rand(1), before)


def test_draw_follows_the_distribution():
    import random

    torch.manual_seed(0)
    logits = torch.randn(2, 37) * 2
    rng = random.Random(0)
    for temperature, top_p in ((0.7, 1.0), (1.0, 0.8)):
        counts = torch.zeros(2, 37)
        n = 20000
        for _ in range(n):
            tok = _draw(logits.clone(), temperature, top_p, [rng.random(), rng.random()])
            counts[0, tok[0]] += 1
            counts[1, tok[1]] += 1
        p = torch.softmax(logits / temperature, -1)
        if top_p < 1:
            sp, order = p.sort(-1, descending=True)
            sp = sp * ((sp.cumsum(-1) - sp) < top_p)
            p = torch.zeros_like(p).scatter(1, order, sp / sp.sum(-1, keepdim=True))
        assert (counts / n - p).abs().max() < 0.015
        assert (counts[p == 0] == 0).all()  # nothing outside the nucleus
    # a vocabulary that is not a multiple of the block size, and a certain token
    big = torch.full((3, 5000), -1e4)
    big[:, 4999] = 0.0
    assert _draw(big, 1.0, 1.0, [0.0, 0.5, 0.999999]).tolist() == [4999] * 3


def test_logprobs_are_the_models(fast, pair):
    model, tok = pair
    s = SamplingParams(n=2, temperature=0.8, max_new_tokens=9, seed=3, logprobs=True)
    out = fast.generate(chats()[:2], s)
    for i, row in enumerate(out):
        for c in row:
            assert len(c.token_ids) == len(c.logprobs) == c.n_tokens
            # teacher-forced: the model's log-softmax (temperature 1) at each generated token
            prompt = fast.encode(chats()[i])
            ids = torch.tensor([prompt + c.token_ids])
            with torch.no_grad():
                lp = torch.log_softmax(model(ids).logits[0].float(), -1)
            ref = [lp[len(prompt) - 1 + t, tok_id].item() for t, tok_id in enumerate(c.token_ids)]
            assert max(abs(x - y) for x, y in zip(c.logprobs, ref)) < 1e-3
            assert all(x <= 0 for x in c.logprobs)
    # the HF backend returns the same kind of numbers for its own greedy tokens
    h = HFBackend(model, tok, autocast=False, show_progress=False)
    g = SamplingParams(max_new_tokens=6, logprobs=True)
    a, b = fast.generate(chats()[:3], g), h.generate(chats()[:3], g)
    for x, y in zip(a, b):
        assert x[0].token_ids == y[0].token_ids
        assert max(abs(p - q) for p, q in zip(x[0].logprobs, y[0].logprobs)) < 1e-3


def test_tool_continuation_equals_the_round_trip(fast, hf, pair):
    """on_tool: stop at a boundary, edit the response, continue in place. The same as
    stopping, re-prompting with the edited response and generating again (the HF rounds)."""
    full = texts(hf.generate(chats()[:4], SamplingParams(max_new_tokens=24)))
    boundary = full[0][5:7]
    assert boundary.strip()

    def edit(response: str) -> str:
        return response + boundary + " 42 "

    calls = []

    def on_tool(events):
        calls.append(len(events))
        return [edit(ev.completion.text) if ev.index != 2 else None for ev in events]

    s = SamplingParams(max_new_tokens=24)
    out = fast.generate(chats()[:4], s, tool_stop=[boundary], on_tool=on_tool, max_tool_rounds=1)
    for i in range(4):
        first = hf.generate(chats()[i : i + 1], s.replace(stop=[boundary]))[0][0]
        if first.finish_reason != "stop":  # no boundary: an ordinary completion
            assert out[i][0] == first
            continue
        if i == 2:  # the callback ended it
            assert out[i][0].text == "" and out[i][0].finish_reason == "stop"
            continue
        rest = hf.generate(
            [ChatPrompt(chats()[i], edit(first.text))],
            s.replace(max_new_tokens=24 - first.n_tokens),
        )[0][0]
        assert out[i][0].text == rest.text
        assert out[i][0].n_tokens == rest.n_tokens
    assert sum(calls) >= 1


def test_calc_style_through_the_engine(fast, hf):
    """The calculator loop, in place (fast) and in rounds (HF), from a prefix that ends at
    '<<expr=': the value is filled in and the model continues; same texts."""
    from mathlab.styles import tool_loop

    prompts = [ChatPrompt(c, "First, <<12*3=") for c in chats()[:3]]
    s = SamplingParams(max_new_tokens=12)
    a = tool_loop(fast, prompts, "calc", s)
    b = tool_loop(hf, prompts, "calc", s)
    assert [r[0].text for r in a] == [r[0].text for r in b]
    assert all(r[0].text.startswith("First, <<12*3=36>>") for r in a)
    assert [r[0].tool_calls for r in a] == [r[0].tool_calls for r in b]
    assert [r[0].n_tokens for r in a] == [r[0].n_tokens for r in b]


def test_notices_when_training_changes_the_weights(pair):
    model, tok = pair
    b = FastBackend(model, tok, slots=4, show_progress=False)
    s = SamplingParams(max_new_tokens=8)
    before = b.generate(chats()[:3], s)
    w = model.model.layers[0].mlp.down_proj.weight
    with torch.no_grad():
        saved = w.clone()
        w.mul_(-1)  # an in-place update, as an optimizer step makes
    try:
        changed = b.generate(chats()[:3], s)
        ref = HFBackend(model, tok, autocast=False, show_progress=False).generate(chats()[:3], s)
        assert changed == ref and changed != before
    finally:
        with torch.no_grad():
            w.copy_(saved)
    assert b.generate(chats()[:3], s) == before


def test_peft_model_is_merged_like_hf(pair):
    from peft import LoraConfig, get_peft_model

    model, tok = sharp_tiny(seed=1)
    peft = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"])
    )
    with torch.no_grad():
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    s = SamplingParams(max_new_tokens=10)
    fast = get_backend((peft, tok), show_progress=False)
    assert isinstance(fast, FastBackend)
    a = fast.generate(chats()[:4], s)
    b = HFBackend(peft, tok, autocast=False, show_progress=False).generate(chats()[:4], s)
    assert a == b
    # the adapter is not merged into the caller's model
    assert any("lora_A" in n for n, _ in peft.named_parameters())


def test_bf16_forced_runs(pair):
    model, tok = pair
    b = FastBackend(model, tok, slots=4, autocast=True, show_progress=False)
    out = b.generate(chats()[:2], SamplingParams(max_new_tokens=5, temperature=1.0, n=2))
    assert b.last_stats["dtype"] == "bfloat16"
    assert all(c.n_tokens == 5 for row in out for c in row)
    assert next(model.parameters()).dtype == torch.float32  # the model is untouched
    auto = FastBackend(model, tok, slots=4, show_progress=False)
    auto.generate(chats()[:1], SamplingParams(max_new_tokens=2))
    assert auto.last_stats["dtype"] == "float32"  # greedy stays fp32 unless forced


def test_auto_kind_and_unsupported_models(pair, capsys):
    from transformers import GPT2Config, GPT2LMHeadModel

    model, tok = pair
    assert isinstance(get_backend((model, tok), show_progress=False), FastBackend)
    assert isinstance(get_backend((model, tok), kind="hf", show_progress=False), HFBackend)
    gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=len(tok)))
    gpt2.generation_config.eos_token_id = tok.eos_token_id
    assert "gpt2" in unsupported_reason(gpt2)
    auto = get_backend((gpt2, tok), show_progress=False)
    assert isinstance(auto, HFBackend)
    assert "fast engine does not run this model" in capsys.readouterr().out
    with pytest.raises(ValueError, match="cannot run"):
        FastBackend(gpt2, tok)
    with pytest.raises(ValueError, match="on_tool"):
        FastBackend(model, tok).generate(chats()[:1], tool_stop=["x"])


def test_decode_attention_kernel_matches_torch():
    from mathlab.engine_kernels import decode_attention

    kernel = decode_attention()
    if kernel is None:
        pytest.skip("the C kernel cannot be built here (no C compiler): the engine uses torch")
    torch.manual_seed(0)
    n, kv, g, d, cap = 5, 3, 3, 64, 40
    k, v = torch.randn(n + 2, kv, cap, d), torch.randn(n + 2, kv, cap, d)
    q = torch.randn(n, kv, g, d)
    slots = torch.tensor([6, 0, 3, 2, 5])  # rows read any slots, in any order
    lens = torch.tensor([1, 7, 40, 23, 2])
    out = torch.empty(n, kv, g, d)
    kernel(q, k, v, slots, lens, out, 0.125)
    for i in range(n):
        slot, L = int(slots[i]), int(lens[i])
        scores = torch.einsum("hgd,htd->hgt", q[i], k[slot, :, :L]) * 0.125
        ref = torch.einsum("hgt,htd->hgd", torch.softmax(scores, -1), v[slot, :, :L])
        assert torch.allclose(out[i], ref, atol=1e-5, rtol=1e-4)


def test_engine_without_the_kernel_gives_the_same_text(pair, monkeypatch, capsys):
    from mathlab import engine_kernels

    model, tok = pair
    s = SamplingParams(max_new_tokens=12)
    with_kernel = FastBackend(model, tok, slots=4, show_progress=False).generate(chats(), s)
    without = FastBackend(model, tok, slots=4, show_progress=False, use_kernel=False)
    assert without.generate(chats(), s) == with_kernel
    monkeypatch.setenv("MATHLAB_KERNELS", "0")
    engine_kernels._reset()
    try:
        assert engine_kernels.decode_attention() is None
        assert "torch attention (MATHLAB_KERNELS=0)" in capsys.readouterr().out
        fallback = FastBackend(model, tok, slots=4, show_progress=False)
        assert fallback.generate(chats(), s) == with_kernel
    finally:
        engine_kernels._reset()
