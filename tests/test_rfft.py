"""06_rfft building blocks: LSO splits, the three formats, tokenizers, tiny training runs."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from mathlab.config import RFFTParams
from mathlab.rfft import tasks
from mathlab.rfft.experiments import (
    LSOSetting,
    check_params,
    first_divergence,
    run_lso,
    run_rfft,
    skeleton,
    verdict,
)
from mathlab.rfft.tokenizers import build_tokenizer, encode, number_tokenizer, tokenizer_level
from mathlab.rfft.train import (
    collate,
    fit_or_load,
    greedy_decode,
    lora_wrap,
    make_examples,
    prompt_ids,
    tiny_llama,
    train_lm,
)

EDGE_PAIRS = [(0, 0), (9, 1), (99, 99), (5, 95), (50, 50), (999, 1), (123456, 987654), (7, 80000)]


def _random_pairs(k: int = 40, seed: int = 1):
    rng = random.Random(seed)
    return EDGE_PAIRS + [
        (rng.randrange(10 ** rng.randint(1, 7)), rng.randrange(10 ** rng.randint(1, 7)))
        for _ in range(k)
    ]


# --------------------------------------------------------------------------- splits
def test_square_has_441_pairs_inside_the_square():
    split = tasks.square_split(half=10)
    assert len(split.test) == 441
    assert all(abs(a - 50) <= 10 and abs(b - 50) <= 10 for a, b in split.test)
    assert all(not (abs(a - 50) <= 10 and abs(b - 50) <= 10) for a, b in split.train)
    assert split.boxes == [(40, 60, 40, 60)]


@pytest.mark.parametrize("kind", tasks.SPLIT_KINDS)
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_no_heldout_pair_leaks_into_training(kind, seed):
    split = tasks.make_split(kind, seed=seed)
    train, test = set(split.train), set(split.test)
    assert not train & test
    assert len(train) + len(test) == 100 * 100
    # and none of the training prompts built from the split asks a held-out question
    prompts = {tasks.format_example("direct", a, b)[0] for a, b in split.train}
    assert not prompts & {tasks.format_example("direct", a, b)[0] for a, b in split.test}


def test_random_split_holds_out_thirty_percent():
    assert len(tasks.random_split(0.3, seed=0).test) == 3000
    assert tasks.random_split(0.3, seed=0).test != tasks.random_split(0.3, seed=1).test


@pytest.mark.parametrize("seed", range(5))
def test_three_holes_do_not_overlap(seed):
    split = tasks.holes_split(3, 21, seed=seed)
    assert len(split.boxes) == 3
    assert len(split.test) == 3 * 21 * 21  # disjoint boxes, so no cell counted twice
    cells = [
        {(a, b) for a in range(a0, a1 + 1) for b in range(b0, b1 + 1)}
        for a0, a1, b0, b1 in split.boxes
    ]
    assert all(len(c) == 441 for c in cells)
    assert not (cells[0] & cells[1] or cells[0] & cells[2] or cells[1] & cells[2])


def test_bad_split_parameters_are_rejected():
    with pytest.raises(ValueError, match="does not fit"):
        tasks.square_split(half=60)
    with pytest.raises(ValueError, match="unknown split kind"):
        tasks.make_split("circle")
    with pytest.raises(ValueError, match="non-overlapping"):
        tasks.holes_split(5, 50, n=100)


# --------------------------------------------------------------------------- formats
@pytest.mark.parametrize("fmt", tasks.FORMATS)
@pytest.mark.parametrize("reverse", [False, True])
def test_formats_round_trip(fmt, reverse):
    for a, b in _random_pairs():
        prompt, target = tasks.format_example(fmt, a, b, reverse=reverse)
        assert tasks.parse_answer(fmt, target, reverse=reverse) == a + b, (fmt, a, b, target)
        assert target and prompt


def test_parse_answer_rejects_junk():
    assert tasks.parse_answer("direct", "12a") is None
    assert tasks.parse_answer("direct", "") is None
    assert tasks.parse_answer("scratchpad", "\n9+7+0=16\n") is None
    assert tasks.parse_answer("rule", "c=0:c=0\nwhile a or b:True") is None
    assert tasks.parse_answer("direct", "68", reverse=True) == 86


def test_scratchpad_lines_recompute_the_sum():
    for a, b in _random_pairs():
        lines = tasks.format_example("scratchpad", a, b)[1].strip("\n").split("\n")[:-1]
        carry, total = 0, 0
        for i, line in enumerate(lines):
            x, y, c, t = map(int, line.replace("=", "+").split("+"))
            assert c == carry and x + y + c == t
            total += (t % 10) * 10**i
            carry = t // 10
        assert total + carry * 10 ** len(lines) == a + b


def test_rule_trace_executes_to_the_sum():
    for a, b in _random_pairs():
        prompt, trace = tasks.format_example("rule", a, b)
        assert prompt.startswith(tasks.RULE_CODE)
        assert tasks.check_rule_trace(a, b, trace) == a + b
        # every rule line that can run is recited, in code order
        recited = {line.split(":")[0] for line in trace.split("\n")}
        assert "s=x+y+c" in recited and "return r" in recited


def test_rule_trace_check_catches_wrong_steps():
    trace = tasks.format_example("rule", 456, 78)[1]
    lines = trace.split("\n")
    wrong_sum = trace.replace("s=x+y+c:s=6+8+0=14", "s=x+y+c:s=6+8+0=15")
    with pytest.raises(tasks.TraceError, match="line 6"):
        tasks.check_rule_trace(456, 78, wrong_sum)
    with pytest.raises(tasks.TraceError, match="expected rule line"):
        tasks.check_rule_trace(456, 78, "\n".join(lines[:3] + lines[4:]))  # a skipped line
    with pytest.raises(tasks.TraceError, match="x\\+y\\+c is"):
        tasks.check_rule_trace(456, 78, trace.replace("s=6+8+0=14", "s=6+7+1=14"))
    with pytest.raises(tasks.TraceError, match="ends before"):
        tasks.check_rule_trace(456, 78, "\n".join(lines[:-1]))
    with pytest.raises(tasks.TraceError, match="the test is"):
        tasks.check_rule_trace(456, 78, trace.replace("while a or b:False", "while a or b:True"))


def test_rule_trace_check_never_crashes_on_garbage():
    rng = random.Random(0)
    gold = tasks.format_example("rule", 3714, 8296)[1]
    for _ in range(300):
        chars = list(gold[: rng.randrange(len(gold))])
        for _ in range(rng.randint(1, 4)):  # mutate a few characters, like a wrong model
            if chars:
                chars[rng.randrange(len(chars))] = rng.choice("0123456789[],:= \nabcrxy")
        try:
            assert tasks.check_rule_trace(3714, 8296, "".join(chars)) == 12010
        except tasks.TraceError:
            pass
    for bad in [
        "",
        "c=0:c=0]",
        "c=0:c=",
        "c=0:c=0\nr=[]:r=[]\nwhile a or b:False\nif c:False\nreturn r:",
    ]:
        with pytest.raises(tasks.TraceError):
            tasks.check_rule_trace(0, 0, bad)


def test_rfft_problems_keep_test_out_of_training():
    train, test = tasks.rfft_problems((1, 3), (1, 6), n_train=600, n_test_per_digit=20, seed=0)
    assert sorted(test) == [1, 2, 3, 4, 5, 6]
    held = {p for pairs in test.values() for p in pairs}
    assert not held & set(train)
    for d, pairs in test.items():
        assert len(pairs) == 20 and all(len(str(a)) == d and len(str(b)) == d for a, b in pairs)
    assert len(train) == 600
    assert {d: sum(len(str(a)) == d for a, _ in train) for d in (1, 2, 3)} == {
        1: 200,
        2: 200,
        3: 200,
    }
    assert (
        len({p for p in train if p[0] < 10}) == 80
    )  # 1 digit: 100 pairs, 20 in the test, rest repeated
    assert len(set(train)) == 80 + 200 + 200
    _, small_test = tasks.rfft_problems((1, 1), (1, 1), n_train=10, n_test_per_digit=500, seed=0)
    assert len(small_test[1]) == 50  # the test takes at most half of the 100 one-digit pairs


# --------------------------------------------------------------------------- tokenizers
def _all_format_texts():
    return [
        q + t
        for fmt in tasks.FORMATS
        for rev in (False, True)
        for a, b in _random_pairs()
        for q, t in [tasks.format_example(fmt, a, b, rev)]
    ]


def test_digit_tokenizer_is_lossless_and_saves(tmp_path):
    from transformers import AutoTokenizer

    texts = _all_format_texts()
    tok = build_tokenizer(["".join(tasks.format_example(fmt, 95, 7)) for fmt in tasks.FORMATS])
    ids = encode(tok, texts)  # built from one problem per format, covers them all
    assert [tok.decode(i) for i in ids] == texts
    assert all(
        tok.convert_ids_to_tokens([i])[0] in "0123456789" for i in encode(tok, ["1234567890"])[0]
    )
    tok.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert encode(again, texts) == ids and tokenizer_level(again) == "digit"


def test_number_tokenizer_is_lossless_with_one_token_per_number():
    tok = number_tokenizer(198, ["0+0="])
    texts = [
        q + t
        for a in range(0, 100, 7)
        for b in range(0, 100, 3)
        for q, t in [tasks.format_example("direct", a, b)]
    ]
    ids = encode(tok, texts)
    assert [tok.decode(i) for i in ids] == texts
    assert tok.convert_ids_to_tokens(encode(tok, ["57+99=156"])[0]) == ["57", "+", "99", "=", "156"]
    assert tokenizer_level(tok) == "number"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        encode(tok, ["57*2=114"])


# --------------------------------------------------------------------------- training
def _tiny_setup(n_pairs: int = 300, fmt: str = "direct"):
    rng = random.Random(0)
    pairs = [(rng.randrange(50), rng.randrange(50)) for _ in range(n_pairs)]
    texts = [tasks.format_example(fmt, a, b) for a, b in pairs]
    tok = build_tokenizer([q + t for q, t in texts])
    return tok, pairs, make_examples(tok, texts)


def test_collate_masks_prompt_and_padding():
    tok, _, examples = _tiny_setup(5)
    ids, labels = collate(examples[:3], tok.pad_token_id)
    for row, e in enumerate(examples[:3]):
        assert ids[row, : len(e.ids)].tolist() == e.ids
        assert (labels[row, : e.n_prompt] == -100).all() and (
            labels[row, len(e.ids) :] == -100
        ).all()
        assert labels[row, e.n_prompt : len(e.ids)].tolist() == e.ids[e.n_prompt :]


def test_tiny_training_lowers_the_loss():
    torch.manual_seed(0)
    tok, _, examples = _tiny_setup()
    model = tiny_llama(tok, layers=1, hidden=32, heads=2)
    log = train_lm(
        model, examples, steps=40, batch_size=32, lr=3e-3, log_every=10, pad_id=tok.pad_token_id
    )
    assert log.final_loss < 0.75 * log.first_loss
    assert log.tokens > 0 and log.tokens_per_s > 0


def test_greedy_decode_matches_full_forward():
    torch.manual_seed(0)
    tok, pairs, _ = _tiny_setup(20)
    model = tiny_llama(tok, layers=1, hidden=32, heads=2).eval()
    prompts = prompt_ids(tok, [tasks.format_example("direct", a, b)[0] for a, b in pairs])
    cached = greedy_decode(model, prompts, 4, eos_id=-1, bf16=False)  # eos never: 4 tokens each
    for p, out in zip(prompts, cached):
        seq = list(p)
        for _ in range(4):  # the same continuation without the KV cache
            with torch.no_grad():
                seq.append(int(model(input_ids=torch.tensor([seq])).logits[0, -1].argmax()))
        assert out == seq[len(p) :]


def test_fit_or_load_trains_once_then_loads(tmp_path):
    tok, _, examples = _tiny_setup(50)
    calls = []

    def build():
        return tiny_llama(tok, layers=1, hidden=32, heads=2), tok

    def fit(model):
        calls.append(1)
        return train_lm(model, examples, steps=3, batch_size=16, pad_id=tok.pad_token_id)

    key = {"setting": "t", "steps": 3}
    m1, _, rec1, cached1 = fit_or_load(tmp_path / "t", key, build, fit)
    m2, tok2, rec2, cached2 = fit_or_load(tmp_path / "t", key, build, fit)
    assert (cached1, cached2, len(calls)) == (False, True, 1)
    assert rec1["key"] == rec2["key"] and rec1["inputs"] == key and len(tok2) == len(tok)
    assert rec2["train"]["history"] == rec1["train"]["history"]
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values()):
        assert torch.equal(a, b)
    # a folder written before issue 11: hash under "hash", inputs under "key", loss pairs
    train = {k: v for k, v in rec1["train"].items() if k != "history"}
    train["losses"] = [[h["step"], h["loss"]] for h in rec1["train"]["history"]]
    old = {"hash": rec1["key"], "key": key, "train": train, "n_params": rec1["n_params"]}
    (tmp_path / "t" / "stage.json").write_text(json.dumps(old))
    _, _, rec3, cached3 = fit_or_load(tmp_path / "t", key, build, fit)
    assert cached3 and len(calls) == 1  # reused, not retrained
    assert rec3["key"] == rec1["key"] and rec3["inputs"] == key
    assert rec3["train"]["history"] == rec1["train"]["history"]
    fit_or_load(tmp_path / "t", {**key, "steps": 4}, build, fit)  # new key: retrains
    assert len(calls) == 2


def test_lora_trains_only_the_adapters():
    torch.manual_seed(0)
    tok, _, examples = _tiny_setup(50)
    model = lora_wrap(tiny_llama(tok, layers=1, hidden=32, heads=2), r=4, alpha=8)
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    trained = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    assert trained and all("lora" in n for n in trained)
    train_lm(model, examples, steps=3, batch_size=16, lr=1e-2, pad_id=tok.pad_token_id)
    params = dict(model.named_parameters())
    assert all(torch.equal(params[n], v) for n, v in frozen.items())
    assert any(not torch.equal(params[n], v) for n, v in trained.items())


# --------------------------------------------------------------------------- experiments
def test_settings_and_params_are_validated():
    assert LSOSetting.parse("number-direct-holes") == LSOSetting("number", "direct", "holes")
    with pytest.raises(ValueError, match="digit-direct-square"):
        LSOSetting.parse("digits-direct-square")
    with pytest.raises(ValueError, match="scratchpad is written digit by digit"):
        LSOSetting.parse("number-scratchpad-square")
    with pytest.raises(ValueError, match="lso_steps has no entry 'digit-scratchpad'"):
        check_params(RFFTParams(lso_settings=["digit-scratchpad-square"]))
    with pytest.raises(ValueError, match="unknown format 'cot'"):
        check_params(RFFTParams(rfft_formats=["cot"]))


def test_skeleton_masks_digits_only():
    gold = tasks.format_example("rule", 456, 78)[1]
    other = tasks.format_example("rule", 123, 89)[1]  # same lengths and carries
    assert skeleton(gold) == skeleton(other)
    assert skeleton(gold) != skeleton(tasks.format_example("rule", 4567, 78)[1])  # one more loop
    assert skeleton("s=x+y+c:s=6+8+0=14") == ["s=x+y+c:s=#+#+#=##"]


def test_lr_by_run_names_a_run():
    p = RFFTParams(lr_by_run={"rfft-rule": 2e-3, "digit-direct": 5e-4})
    check_params(p)
    with pytest.raises(ValueError, match="lr_by_run: 'rfft-cot' names no run"):
        check_params(RFFTParams(lr_by_run={"rfft-cot": 1e-3}))


def test_verdict_threshold_and_divergence():
    assert (
        verdict(0.2, 0.95) == "hole"
        and verdict(0.7, 0.95) == "no hole"
        and verdict(0.0, 0.2) == "no hole"
    )
    assert first_divergence("a\nb\nc", "a\nb\nc") is None
    assert first_divergence("a\nb\nc", "a\nx") == {"line": 2, "of": 3, "gold": "b", "pred": "x"}


def test_run_lso_and_rfft_end_to_end_tiny(tmp_path):
    p = RFFTParams(
        layers=1,
        hidden=32,
        heads=2,
        lso_grid=12,
        lso_half=2,
        lso_hole_side=3,
        batch_size=32,
        lso_steps={"digit-direct": 4, "number-direct": 4},
        rfft_train_max_digits=2,
        rfft_test_max_digits=3,
        rfft_n_train=60,
        rfft_n_test=4,
        rfft_formats=["rule"],
        rfft_steps={"rule": 2},
        rfft_batch_size={"rule": 8},
    )
    res = run_lso("number-direct-holes", p, tmp_path, seed=0)
    assert res.accuracy.shape == (12, 12) and res.split.heldout.sum() == 27
    assert res.inside == pytest.approx(res.accuracy[res.split.heldout].mean())
    assert res.outside == pytest.approx(res.accuracy[~res.split.heldout].mean())
    assert (tmp_path / "rfft" / "number-direct-holes" / "stage.json").is_file()
    assert run_lso("number-direct-holes", p, tmp_path, seed=0).cached
    rf = run_rfft("rule", p, tmp_path, seed=0)
    assert sorted(rf.by_digits) == [1, 2, 3] and len(rf.samples) == 12
    assert all(0.0 <= v <= 1.0 for v in rf.by_digits.values())
    assert np.isfinite(rf.row()["final_loss"])


@pytest.mark.parametrize("module", ["tasks", "tokenizers", "train"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"mathlab.rfft.{module}"))
    assert result.attempted > 0 and result.failed == 0
