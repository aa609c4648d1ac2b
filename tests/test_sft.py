"""SFT data rows, the three ablation formats, and real tiny-random training runs (full and LoRA)."""

import json
import math

import pytest

from mathlab.config import SFTParams
from mathlab.data.records import Problem
from mathlab.prompts import cot_messages
from mathlab.sft import (
    FORMATS,
    SFTError,
    build_rows,
    completion_text,
    fraction_sizes,
    sft_row,
    tokenized_labels,
    train_sft,
    training_order,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


GSM_STYLE = Problem(
    "gsm8k-1",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
    "May. How many clips did Natalia sell altogether in April and May?",
    "72",
    solution="Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
    source="gsm8k",
    split="test",
)
TINY = SFTParams(
    batch_size=2, logging_steps=1, save_steps=1000, max_length=256, lr=1e-3, warmup_steps=0
)


@pytest.fixture(scope="module")
def generated():
    from mathlab.data.generator import generate_problems

    return generate_problems(6, seed=3)


@pytest.fixture(scope="module")
def tokenizer():
    from mathlab.models import load_tokenizer

    return load_tokenizer("tiny-random")


def test_rows_are_prompt_completion_with_the_shared_prompt(generated):
    rows = build_rows(generated, "answer_is")
    assert len(rows) == len(generated)
    for row, p in zip(rows, generated, strict=True):
        assert set(row) == {"prompt", "completion"}
        assert row["prompt"] == cot_messages(p.question)
        assert row["completion"][0]["role"] == "assistant" and len(row["completion"]) == 1


def test_three_formats_on_the_same_problems(generated):
    from mathlab.answers import is_correct
    from mathlab.calculator import find_annotations

    for p in generated:
        texts = {fmt: completion_text(p, fmt) for fmt in FORMATS}
        for fmt, text in texts.items():
            assert text.rstrip().splitlines()[-1].startswith("The answer is:"), (fmt, text)
            assert is_correct(text, p.answer), (fmt, text)
        assert find_annotations(texts["answer_is"])  # steps with calculator annotations
        assert not find_annotations(texts["plain"]) and "<<" not in texts["plain"]
        assert len(texts["answer_only"].splitlines()) == 1
        assert len(texts["plain"].splitlines()) > 1 or p.meta.get("steps", 1) == 1
    real = {fmt: completion_text(GSM_STYLE, fmt) for fmt in FORMATS}
    assert "<<48/2=24>>" in real["answer_is"] and "<<" not in real["plain"]
    assert real["answer_only"].strip() == "The answer is: 72"
    with pytest.raises(SFTError, match="unknown SFT format"):
        completion_text(GSM_STYLE, "latex")


def test_fraction_sizes_are_distinct_and_sorted():
    assert fraction_sizes(40, [0.125, 0.25, 0.5, 1.0]) == [5, 10, 20, 40]
    assert fraction_sizes(4, [0.01, 0.02, 1.0]) == [1, 4]
    with pytest.raises(SFTError, match="scaling_fractions"):
        fraction_sizes(10, [1.5])


def test_labels_mask_the_prompt(tokenizer):
    rows = [
        sft_row(
            GSM_STYLE.question, "48/2 = <<48/2=24>>24\n48+24 = <<48+24=72>>72\nThe answer is: 72"
        ),
        sft_row("What is 2 + 3?", "2+3=<<2+3=5>>5\nThe answer is: 5"),
    ]
    encoded = tokenized_labels(rows, tokenizer, TINY)
    for row, enc in zip(rows, encoded, strict=True):
        prompt_ids = tokenizer.apply_chat_template(
            row["prompt"], add_generation_prompt=True, tokenize=True, return_dict=True
        )["input_ids"]
        n = len(prompt_ids)
        assert enc["input_ids"][:n] == list(prompt_ids)
        assert all(label == -100 for label in enc["labels"][:n])  # no loss on the prompt
        assert enc["labels"][n:] == enc["input_ids"][n:]  # loss on every completion token
        completion = tokenizer.decode(enc["labels"][n:])
        assert completion.startswith(row["completion"][0]["content"])
        assert tokenizer.eos_token in completion  # the model learns to end its turn


def test_training_order_is_stable_and_the_trainer_reads_rows_in_it(generated, tokenizer, tmp_path):
    import datasets
    from trl import SFTConfig, SFTTrainer

    from mathlab.models import load_model
    from mathlab.sft_trl import sft_config_kwargs, trainer_kwargs

    rows = build_rows(generated, "answer_is")
    small, big = training_order(rows[:4], 0), training_order(rows, 0)
    assert sorted(map(str, big)) == sorted(map(str, rows))
    assert [r for r in big if r in small] == small  # added rows do not reorder the others
    assert training_order(rows, 1) != big  # another seed, another order

    model = load_model("tiny-random", device="cpu", trainable=True)
    for padding_free in (False, True):
        params = TINY.model_copy(update={"batch_size": 6, "padding_free": padding_free})
        args = SFTConfig(**sft_config_kwargs(params, tmp_path, device="cpu", seed=0, max_steps=1))
        trainer = SFTTrainer(
            **trainer_kwargs(model, args, datasets.Dataset.from_list(big), tokenizer, [], None)
        )
        batch = next(iter(trainer.get_train_dataloader()))
        if padding_free:  # one row: the examples one after another, split where positions restart
            assert "attention_mask" not in batch and batch["input_ids"].shape[0] == 1
            ids = batch["input_ids"][0].tolist()
            starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist() + [len(ids)]
            read = [ids[a:b] for a, b in zip(starts, starts[1:])]
        else:
            read = [
                ids[mask.bool()].tolist()
                for ids, mask in zip(batch["input_ids"], batch["attention_mask"])
            ]
        assert read == [list(r["input_ids"]) for r in trainer.train_dataset][:6]


def test_padding_free_and_completion_logits_give_trls_loss_and_gradients(
    generated, tokenizer, tmp_path
):
    """Our two training speed-ups change the arithmetic, not the result: the loss and every
    gradient equal TRL's own (padded batches, its fused LM head over every position)."""
    import datasets
    import torch
    from trl import SFTConfig

    from mathlab.models import load_model
    from mathlab.sft_trl import packed_attention, sft_config_kwargs, trainer_class, trainer_kwargs

    rows = build_rows(generated[:5], "answer_is")
    model = load_model("tiny-random", device="cpu", trainable=True)

    def loss_and_grads(padding_free: bool, completion_only: bool, packed: bool = True):
        params = TINY.model_copy(update={"batch_size": 5, "padding_free": padding_free})
        args = SFTConfig(**sft_config_kwargs(params, tmp_path, device="cpu", seed=0, max_steps=1))
        trainer = trainer_class()(
            **trainer_kwargs(model, args, datasets.Dataset.from_list(rows), tokenizer, [], None)
        )
        trainer.completion_logits_only = completion_only
        batch = next(iter(trainer.get_train_dataloader()))
        assert ("attention_mask" in batch) is not padding_free
        model.train()
        model.zero_grad()
        with packed_attention(model, padding_free and packed):
            loss = trainer.compute_loss(model, batch)
            loss.backward()
        assert model.config._attn_implementation == "sdpa"  # restored
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        tokens = trainer.tokens_seen
        return float(loss.detach()), grads.clone(), tokens, trainer._metrics["train"]

    ref_loss, ref_grads, ref_tokens, ref_metrics = loss_and_grads(False, False)  # TRL's way
    cases = ((True, False, True), (False, True, True), (True, True, True), (True, True, False))
    for padding_free, completion_only, packed in cases:
        loss, grads, tokens, metrics = loss_and_grads(padding_free, completion_only, packed)
        assert loss == pytest.approx(ref_loss, rel=1e-5)
        assert torch.allclose(grads, ref_grads, rtol=1e-4, atol=1e-6)
        assert tokens == ref_tokens > 0  # real tokens: padding never counted
        for name in ("entropy", "mean_token_accuracy"):
            assert metrics[name][-1] == pytest.approx(ref_metrics[name][-1], rel=1e-4, abs=1e-6)


def test_full_sft_run_trains_saves_and_reloads(generated, tmp_path):
    from mathlab.models import load_model

    rows = build_rows(generated[:4], "answer_is")
    out = tmp_path / "sft"
    result = train_sft("tiny-random", rows, TINY, out, max_steps=2, label="test-sft")
    assert result.steps == 2 and result.tokens > 0 and not result.skipped
    assert result.final_loss is not None and math.isfinite(result.final_loss)
    assert all(math.isfinite(h["loss"]) for h in result.history)
    assert (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file()
    assert not (out / "checkpoints").exists()  # finished: no checkpoint left behind
    model = load_model(str(out), device="cpu")
    assert sum(p.numel() for p in model.parameters()) > 0
    again = train_sft("tiny-random", rows, TINY, out, max_steps=2, label="test-sft")
    assert again.skipped and again.key == result.key  # same data + params: stage skipped
    stored = json.loads((out / "stage.json").read_text())
    assert stored["key"] == result.key and stored["history"] == result.history
    assert not any(p.name.startswith(".sft.") for p in tmp_path.iterdir())  # no temporary left
    (out / "stage.json").rename(out / "mathlab_stage.json")  # a folder written before issue 11
    legacy = train_sft("tiny-random", rows, TINY, out, max_steps=2, label="test-sft")
    assert legacy.skipped and legacy.key == result.key and legacy.history == result.history


def test_lora_run_saves_an_adapter_that_load_model_loads(generated, tmp_path):
    from mathlab.models import load_model

    params = TINY.model_copy(update={"method": "lora", "lora_r": 4, "lora_alpha": 8})
    out = tmp_path / "lora"
    result = train_sft(
        "tiny-random",
        build_rows(generated[:2], "plain"),
        params,
        out,
        max_steps=1,
        label="test-lora",
    )
    assert math.isfinite(result.final_loss)
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "tiny-random" and config["r"] == 4
    assert not (out / "model.safetensors").exists()
    model = load_model(str(out), device="cpu")
    assert type(model).__name__ == "PeftModelForCausalLM"


def test_qlora_refuses_without_a_gpu(generated, tmp_path):
    from mathlab.sft import qlora_unavailable

    reason = qlora_unavailable("cpu")
    if reason is None:
        pytest.skip("a CUDA GPU with bitsandbytes is present: QLoRA runs in the gpu preset")
    params = TINY.model_copy(update={"method": "qlora"})
    with pytest.raises(SFTError, match="QLoRA needs a CUDA GPU|bitsandbytes"):
        train_sft(
            "tiny-random", build_rows(generated[:2], "plain"), params, tmp_path / "q", max_steps=1
        )


def test_qlora_run_on_a_gpu(generated, tmp_path):
    from mathlab.sft import qlora_unavailable

    reason = qlora_unavailable("cuda")
    if reason is not None:
        pytest.skip(f"QLoRA not run: {reason}")
    params = TINY.model_copy(update={"method": "qlora", "lora_r": 4})
    result = train_sft(
        "tiny-random",
        build_rows(generated[:2], "plain"),
        params,
        tmp_path / "q",
        device="cuda",
        max_steps=1,
    )
    assert math.isfinite(result.final_loss) and (tmp_path / "q" / "adapter_config.json").is_file()


def test_transfer_benchmark_runs_on_a_real_format_file(tmp_path):
    import importlib.util

    from mathlab.paths import repo_root

    spec = importlib.util.spec_from_file_location(
        "transfer", repo_root() / "benchmarks" / "transfer.py"
    )
    transfer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(transfer)
    out = tmp_path / "transfer.json"
    fixture = repo_root() / "tests" / "fixtures" / "gsm8k_sample.jsonl"
    code = transfer.main(
        [
            "--data",
            str(fixture),
            "--kind",
            "gsm8k",
            "--base",
            "tiny-random",
            "--model",
            "tiny-random",
            "--n",
            "3",
            "--max-new-tokens",
            "8",
            "--device",
            "cpu",
            "--out",
            str(out),
            "--fail-if-worse",
        ]
    )
    result = json.loads(out.read_text())
    assert code == 0 and result["n"] == 3  # the same model is never significantly worse
    assert result["comparison"]["only_a"] == result["comparison"]["only_b"] == 0


class _Killed(RuntimeError):
    pass


def test_interrupted_training_resumes_from_its_checkpoint(generated, tmp_path):
    from transformers import TrainerCallback

    class KillAfterFirstSave(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.global_step == 1:
                raise _Killed("simulated kill after the first checkpoint")

    rows = build_rows(generated[:4], "plain")
    params = TINY.model_copy(update={"save_steps": 1})
    out = tmp_path / "resume"
    with pytest.raises(_Killed):
        train_sft("tiny-random", rows, params, out, max_steps=2, callbacks=[KillAfterFirstSave()])
    assert (out / "checkpoints" / "checkpoint-1").is_dir() and not (out / "stage.json").exists()
    result = train_sft("tiny-random", rows, params, out, max_steps=2)
    assert result.resumed_from and result.resumed_from.endswith("checkpoint-1")
    assert result.steps == 2 and [h["step"] for h in result.history] == [2]
    # other parameters: the stale checkpoints are not resumed from
    with pytest.raises(_Killed):
        train_sft(
            "tiny-random",
            rows,
            params,
            tmp_path / "r2",
            max_steps=2,
            callbacks=[KillAfterFirstSave()],
        )
    other = train_sft(
        "tiny-random", rows, params.model_copy(update={"lr": 5e-4}), tmp_path / "r2", max_steps=2
    )
    assert other.resumed_from is None and other.steps == 2
