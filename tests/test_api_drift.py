"""Every keyword argument mathlab.sft_trl passes to transformers / TRL / PEFT exists in the pinned
versions (after unsloth's notebook API-drift test). The kwargs come from the same builder
functions the training code calls, so this checks exactly what the code passes."""

import dataclasses
import inspect

import peft
import pytest
import transformers
import trl

from mathlab.config import load_config
from mathlab.sft_trl import (
    bnb_config_kwargs,
    lora_config_kwargs,
    sft_config_kwargs,
    trainer_kwargs,
)

PRESETS = ["smoke", "cpu", "gpu"]


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _params(fn) -> set[str]:
    return {
        name
        for name, p in inspect.signature(fn).parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


@pytest.mark.parametrize("preset", PRESETS)
def test_sft_config_kwargs_exist(preset, tmp_path):
    cfg = load_config(preset)
    kwargs = sft_config_kwargs(cfg.sft, tmp_path, device="cpu", seed=cfg.seed)
    unknown = set(kwargs) - _fields(trl.SFTConfig)
    assert not unknown, f"trl {trl.__version__} SFTConfig has no {sorted(unknown)}"
    assert "warmup_ratio" not in kwargs  # dropped from TRL 1.x configs; warmup_steps takes a ratio
    args = trl.SFTConfig(**kwargs)  # and it constructs (validation of values, not just names)
    # TRL defaults gradient checkpointing to True; ours must win (off unless sft asks for it)
    assert args.gradient_checkpointing is cfg.sft.gradient_checkpointing
    assert args.use_cpu and args.mixed_precision == ("bf16" if args.bf16 else "no")
    assert args.completion_only_loss is True and args.packing is False


def test_sft_config_fields_are_training_arguments_plus_trl():
    # the names we rely on through TrainingArguments, checked on the base class too
    names = {
        "warmup_steps",
        "use_cpu",
        "bf16",
        "disable_tqdm",
        "report_to",
        "save_total_limit",
        "include_num_input_tokens_seen",
        "save_only_model",
        "logging_first_step",
    }
    assert names <= _fields(transformers.TrainingArguments)
    assert {"max_length", "packing", "completion_only_loss", "assistant_only_loss"} <= _fields(
        trl.SFTConfig
    )


def test_sft_trainer_kwargs_exist():
    passed = set(trainer_kwargs(None, None, None, None, None, None))
    accepted = _params(trl.SFTTrainer.__init__)
    assert passed <= accepted, f"SFTTrainer.__init__ lacks {sorted(passed - accepted)}"
    assert "resume_from_checkpoint" in _params(transformers.Trainer.train)
    assert "tokenizer" not in accepted  # renamed processing_class long ago; we pass that


@pytest.mark.parametrize("preset", PRESETS)
def test_lora_config_kwargs_exist(preset):
    kwargs = lora_config_kwargs(load_config(preset).sft)
    assert set(kwargs) <= _fields(peft.LoraConfig)
    peft.LoraConfig(**kwargs)


def test_bitsandbytes_config_kwargs_exist():
    kwargs = bnb_config_kwargs()
    assert set(kwargs) <= _params(transformers.BitsAndBytesConfig.__init__)


def test_helpers_we_import_exist():
    from transformers.trainer_callback import PrinterCallback, TrainerCallback
    from transformers.trainer_utils import get_last_checkpoint

    assert {"on_log", "on_train_begin"} <= set(vars(TrainerCallback))
    assert PrinterCallback and get_last_checkpoint
    assert hasattr(peft, "prepare_model_for_kbit_training") and hasattr(peft, "PeftModel")
