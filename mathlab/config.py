"""Presets and parameters: `params/<preset>.yaml`, merged with overrides, validated.

A preset is one YAML file with shared keys at the top (`seed`, `model`, `device`, ...)
one `eval:` section that every notebook evaluates with, and one section per notebook, named
by the notebook's stem without its number (`data:`, `sft:`, `rft:`, `rfft:`, ...). Loading merges, in order:

1. the preset file,
2. every override whose value is not ``None`` (dotted keys like ``"sft.lr"`` or nested
   dicts like ``{"sft": {"lr": 1e-4}}``),

then validates the result against the schema below. An unknown key is rejected with a
message naming it and the closest valid key; a value of the wrong type is rejected with a
message naming the key, the expected type and the value; nothing is coerced silently.

>>> cfg = load_config("smoke", {"seed": 3})
>>> cfg.seed
3

The schema is the single source of truth for what a preset may say. Each notebook owns
its section class; add a field there (with a comment) before using it in a notebook.
"""

from __future__ import annotations

import difflib
import os
import random
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from mathlab.paths import repo_root

PRESETS_HINT = "presets live in params/<preset>.yaml"


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads `1e-4` as a float (YAML 1.2), not as the string '1e-4'."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def yaml_load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


class ConfigError(ValueError):
    """A preset or an override that cannot be used; the message says which key and why."""


class Section(BaseModel):
    """Base for every section: no unknown keys, no silent type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


# --------------------------------------------------------------------------- sections
class DataParams(Section):
    """00_data: the generated train/test sets and the real sets to load."""

    n_train: int = 400  # generated training problems
    n_test: int = 100  # generated test problems (from the training families)
    n_test_heldout: int = 50  # generated test problems from the held-out families
    min_steps: int = 1  # fewest reasoning steps per generated problem
    max_steps: int = 4  # most reasoning steps (the generator supports 1..6)
    families: list[str] | None = None  # generator families to use (None: all)
    heldout_families: list[str] = []  # families kept out of training (generalization)
    distractor_frac: float = 0.0  # fraction of problems with an irrelevant sentence
    zh_frac: float = 0.0  # fraction of problems rendered from Chinese templates
    # real sets: name -> local path or hub name, e.g. {"gsm8k": "../shared/data/gsm8k/train.jsonl"}
    real_sets: dict[str, str] = {}
    real_sample: int | None = None  # keep at most this many rows per real set (seeded)
    near_dup_threshold: float = (
        0.9  # Jaccard of word-shingle sets at which train items are near duplicates
    )
    near_dup_ngram: int = 5  # words per shingle for near-duplicate detection (MinHash LSH)
    contamination_ngram: int = (
        13  # a train item sharing one n-gram with a real test item is contaminated
    )
    decontaminate: bool = True  # drop contaminated train items (False: only report them)


class EvalParams(Section):
    """How every notebook evaluates: decoding, budget, backend and the evaluation sets' sizes.

    One section for all notebooks, so that the stages they compare (base, SFT, RFT, ...) are
    evaluated on the same problems, decoded the same way, and 03 samples as 02 evaluates.
    """

    style: Literal["cot", "calc"] = "cot"  # decoding: chain of thought, or CoT with GSM8K's
    #   calculator filling every <<expr= the model writes (same prompt)
    max_new_tokens: int = 256  # generation budget per answer
    backend: Literal["auto", "fast", "hf", "vllm"] = "auto"  # generation backend (auto: the
    #   fast engine on CPU, HF on a GPU; vllm: the gpu extra)
    batch_size: int | None = None  # sequences decoded together (None: the backend's default)
    k: int = 1  # samples per problem for maj@k and pass@k (1: greedy only)
    temperature: float = 0.7  # sampling temperature of the k samples
    n_test: int | None = None  # test problems evaluated (a seeded subset; None: all of test.jsonl)
    n_heldout: int | None = None  # held-out-family problems evaluated (None: all; 0: none)
    n_baseline: int | None = None  # the base model is evaluated on the first this-many
    #   problems of each eval set (None: all); paired comparisons with it use those (its long,
    #   rambling answers make it the most expensive model to evaluate)
    n_real: int = 0  # rows of each data/real/<set>.jsonl evaluated (0: none)
    n_robust: int = 0  # problems of the robustness sets from 00_data (test_distractor:
    #   an irrelevant sentence added; test_backward: MetaMath's FOBAR questions) evaluated (0: none)


class EvolveParams(Section):
    """01_evolve: instruction evolution (WizardMath, KwaiYiiMath) and MetaMath's augmentations."""

    n_parents: int | None = None  # training problems evolved: the start of 02's training
    #   subset (sft.n_train, same seed), so evolved rows have the parents 02 trains on (None: all)
    ops: list[str] = [
        "add_constraint",
        "deepen",
        "downward",
        "breadth",
        "mutate",
        "decompose",
        "fobar",
        "sv",
    ]  # symbolic operators (exact by construction): mathlab.evolve.symbolic.OPERATORS
    n_sv_test: int = 0  # self-verification test questions made from the test split (0: none)
    # the LLM rewriter (a prompted model through any generation backend)
    llm_ops: list[str] = []  # operators run through the rewriter: mathlab.evolve.prompts.PROMPTS
    llm_parents: int = 8  # parents per LLM operator (the first of the evolved parents)
    llm_model: str | None = None  # rewriter model spec (None: the preset's model); with
    #   llm_backend openai, the served model's name
    llm_backend: Literal["auto", "fast", "hf", "vllm", "openai"] = "auto"  # openai: any
    #   OpenAI-compatible endpoint, e.g. `python -m mathlab.openai_server` or a hosted teacher
    llm_base_url: str | None = None  # the endpoint (llm_backend openai)
    llm_api_key_env: str | None = None  # environment variable holding its API key
    llm_k_solves: int = 3  # solves per evolved problem; kept when a strict majority agrees
    llm_max_new_tokens: int = 256  # budget of a rewrite and of each solve
    answer_aug_k: int = 0  # MetaMath answer augmentation: solutions sampled per parent from
    #   the rewriter, the correct ones kept (0: off)


class SFTParams(Section):
    """02_sft: supervised fine-tuning with TRL's SFTTrainer, its scaling and format ablations."""

    # data
    format: Literal["answer_is", "plain", "answer_only"] = "answer_is"  # completion format:
    #   answer_is = steps with <<calculator>> annotations, plain = steps without, answer_only
    n_train: int | None = None  # training problems (a seeded subset; None: all of train.jsonl)
    train_extra: list[str] = []  # 01_evolve operators whose kept rows (children of these
    #   training problems) join the main SFT training set, e.g. ["fobar", "deepen"]
    evolve_compare: list[str] = []  # 01's experiment: a second model, sft_evolved, trained on
    #   the originals + these operators' kept rows for as many optimizer steps as sft, and
    #   compared with sft (the originals only) on every eval set ([]: off)
    # training (full fine-tune, LoRA or QLoRA)
    method: Literal["full", "lora", "qlora"] = "full"  # qlora needs a CUDA GPU + bitsandbytes
    epochs: float = 1.0  # passes over the training set
    lr: float = 5e-5  # peak learning rate (AdamW), linear decay to 0
    warmup_steps: float = 0.1  # linear warmup: optimizer steps (>= 1) or a fraction of them (< 1)
    weight_decay: float = 0.0  # AdamW weight decay
    batch_size: int = 8  # per-device batch size (packing off)
    grad_accum: int = 1  # gradient accumulation steps
    max_length: int = 384  # tokens per example (prompt + completion), longer ones truncated
    bf16: bool | None = None  # bf16 autocast; None: by hardware (CUDA: bf16 support; CPU: native
    #   bf16 that a matmul probe shows faster than fp32, mathlab.precision; MPS: off)
    gradient_checkpointing: bool = False  # off: TRL turns it on by default; slower on CPU
    padding_free: bool = True  # a batch is one row of the concatenated examples (no pad tokens;
    #   attention stays within each example through position_ids)
    completion_logits_only: bool = True  # the LM head and the loss run only where the labels
    #   are (the completion), not on the prompt tokens TRL scores on CPU and throws away
    optim: str = (
        "adamw_torch_fused"  # transformers optimizer name (fused AdamW: one kernel per step)
    )
    lora_r: int = 16  # LoRA rank
    lora_alpha: int = 32  # LoRA scaling numerator (scale = alpha / r)
    lora_dropout: float = 0.05  # dropout on the LoRA branch
    lora_targets: list[str] = [
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    ]  # module names that get adapters
    logging_steps: int = 5  # optimizer steps between loss lines
    save_steps: int = 50  # optimizer steps between resumable checkpoints (one kept)
    # evaluation: the shared `eval:` section; SFT's own check of its decoding
    cot_check: bool = True  # with eval.style calc: also evaluate the SFT model with plain CoT
    cot_check_n: int | None = None  # ... on the first this-many test problems (None: all)
    # ablations (RFT's data-amount scaling, Abel's data-format comparison)
    ablations: bool = True  # run the scaling curve and the format ablation
    ablation_n_eval: int | None = None  # shared eval set (first test problems; None: eval.n_test)
    scaling_fractions: list[float] = [0.125, 0.25, 0.5, 1.0]  # fractions of the training set
    #   (nested subsets in the main format; fraction 1 is the main SFT model itself)
    ablation_formats: list[Literal["answer_is", "plain", "answer_only"]] = [
        "answer_only",
        "plain",
        "answer_is",
    ]  # formats compared on the same problems
    format_fraction: float = 1.0  # fraction of the training set the formats are compared on


class RFTParams(Section):
    """03_rft: rejection-sampling fine-tuning (RFT, arXiv 2308.01825)."""

    n_questions: int | None = None  # training questions sampled (a seeded subset; None: all)
    k: int = 4  # samples per question and model (k_max of the paths-vs-k curve)
    temperature: float = 0.7  # sampling temperature
    top_p: float = 1.0  # nucleus sampling
    max_new_tokens: int = 256  # generation budget per sample
    batch_size: int | None = None  # sequences decoded together (None: the backend's default)
    backend: Literal["auto", "fast", "hf", "vllm"] = "auto"  # sampling backend (auto: the fast
    #   engine on CPU, HF on a GPU; vllm: the gpu extra)
    sample_base: bool = True  # also sample the base model (part of the union, RFT's U-set)
    base_k: int | None = None  # samples per question from the base model (None: k)
    extra_models: list[str] = []  # more model specs/folders whose correct paths join the union
    train_union: bool = True  # also fine-tune on the union of all models' paths
    include_original: bool = True  # train on the original solutions plus the kept paths
    epochs: float | None = None  # RFT training epochs (None: sft.epochs); other knobs from sft


class RewardModelsParams(Section):
    """04_reward_models (not yet built)."""


class PPODPOParams(Section):
    """05_ppo_dpo (not yet built)."""


class RFFTParams(Section):
    """06_rfft: Leave-Square-Out and Rule-Following Fine-Tuning (Hu et al. 2024, arXiv 2402.17709)."""

    # small Llama trained from scratch (LSO, and RFFT with rfft_backend "scratch")
    layers: int = 2  # transformer layers
    hidden: int = 128  # hidden size (MLP 4x wider)
    heads: int = 4  # attention heads
    lr: float = 1e-3  # AdamW peak learning rate (5% warm-up, cosine to 10%)
    batch_size: int = 128  # LSO training batch (sequences)
    lr_by_run: dict[
        str, float
    ] = {}  # per-run learning rate, e.g. {"rfft-rule": 2e-3, "number-direct": 3e-3}
    bf16: bool | None = None  # bf16 autocast for training (weights stay fp32; decoding runs in
    #   fp32); None: by hardware, as sft.bf16 (mathlab.precision)
    eval_batch_size: int = 2500  # prompts per batched greedy decode
    # Leave-Square-Out: settings are <tokens>-<format>-<split>; tokens digit | number | lora
    # (lora: LoRA on `model` with its own tokenizer), format direct | scratchpad,
    # split square | random | holes
    lso_settings: list[str] = ["digit-direct-square", "number-direct-square"]
    lso_steps: dict[str, int] = {
        "digit-direct": 1500,
        "number-direct": 3000,
    }  # per <tokens>-<format>
    lso_grid: int = 100  # operands a, b in 0..lso_grid-1
    lso_half: int = 10  # half-side of the held-out square (10: 21x21 = 441 pairs)
    lso_center: int | None = None  # center of the square (None: lso_grid // 2)
    lso_random_frac: float = 0.3  # held-out fraction of the random control split
    lso_holes: int = 3  # number of random holes in the holes control
    lso_hole_side: int = 21  # side of each random hole
    # Rule-Following Fine-Tuning: multi-digit addition in three formats
    rfft_formats: list[str] = ["direct", "scratchpad", "rule"]
    # scratch: the small Llama above; lora: peft LoRA on `model` with its own tokenizer (gpu)
    rfft_backends: list[Literal["scratch", "lora"]] = ["scratch"]
    rfft_train_max_digits: int = 5  # train on 1..this many digits per operand
    rfft_test_max_digits: int = 12  # test on 1..this many digits per operand
    rfft_n_train: int = 20000  # training problems (spread evenly over the train digit counts)
    rfft_n_test: int = 50  # test problems per digit count
    rfft_steps: dict[str, int] = {"direct": 1500, "scratchpad": 1500, "rule": 500}  # per format
    rfft_batch_size: dict[str, int] = {"direct": 128, "scratchpad": 64, "rule": 16}  # per format
    rfft_reverse: bool = True  # scratch models: direct/scratchpad answers written last digit first
    lora_r: int = 16  # LoRA rank (lora settings / backend)
    lora_alpha: int = 32  # LoRA alpha
    lora_lr: float = 2e-4  # LoRA learning rate


class AnalysisParams(Section):
    """07_analysis (not yet built)."""


class Config(Section):
    """A resolved preset: shared keys, then one section per notebook."""

    preset: str = "custom"  # the preset file this came from (set by load_config)
    seed: int = 0  # seeds python, numpy, torch and every sampler
    model: str = "smollm2-135m-instruct"  # model spec: see mathlab.models.load_model
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    threads: int | None = None  # torch intra-op threads (None: all cores)

    data: DataParams = DataParams()
    eval: EvalParams = EvalParams()
    evolve: EvolveParams = EvolveParams()
    sft: SFTParams = SFTParams()
    rft: RFTParams = RFTParams()
    reward_models: RewardModelsParams = RewardModelsParams()
    ppo_dpo: PPODPOParams = PPODPOParams()
    rfft: RFFTParams = RFFTParams()
    analysis: AnalysisParams = AnalysisParams()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


SECTIONS = {
    name: field.annotation
    for name, field in Config.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
}


# Keys that moved: a preset or override that still uses one gets an error naming the new key.
MOVED = {
    "sft.eval_style": "eval.style",
    "sft.eval_max_new_tokens": "eval.max_new_tokens",
    "sft.eval_backend": "eval.backend",
    "sft.eval_batch_size": "eval.batch_size",
    "sft.maj_k": "eval.k",
    "sft.maj_temperature": "eval.temperature",
    "sft.n_eval": "eval.n_test",
    "sft.n_eval_heldout": "eval.n_heldout",
    "sft.n_eval_baseline": "eval.n_baseline",
    "sft.eval_real": "eval.n_real",
    "rft.n_eval": "eval.n_test",
}


# --------------------------------------------------------------------------- loading
def params_dir() -> Path:
    """Where the preset files live: $MATHLAB_PARAMS, else <repo>/params."""
    env = os.environ.get("MATHLAB_PARAMS")
    return Path(env) if env else repo_root() / "params"


def available_presets(directory: Path | None = None) -> list[str]:
    directory = directory or params_dir()
    return sorted(p.stem for p in directory.glob("*.yaml"))


def valid_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    """Every dotted key the schema accepts (`seed`, `sft.lr`, ...)."""
    keys = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, Section):
            keys.extend(valid_keys(ann, prefix + name + "."))
        else:
            keys.append(prefix + name)
    return keys


def _closest(key: str, section: bool = False) -> str:
    keys = list(SECTIONS) if section else valid_keys()
    leaf = key.rsplit(".", 1)[-1]
    match = difflib.get_close_matches(key, keys, n=1, cutoff=0.5)
    if not match:  # a right name in the wrong section: compare the last part only
        by_leaf = {k.rsplit(".", 1)[-1]: k for k in keys}
        leaf_match = difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.6)
        match = [by_leaf[leaf_match[0]]] if leaf_match else []
    return f" — did you mean '{match[0]}'?" if match else ""


def _expected(model: type[BaseModel], loc: tuple) -> str:
    """The annotation of the field at `loc`, for the error message."""
    target: Any = model
    for part in loc:
        if isinstance(part, str) and isinstance(target, type) and issubclass(target, BaseModel):
            field = target.model_fields.get(part)
            if field is None:
                break
            target = field.annotation
    return getattr(target, "__name__", None) or str(target).replace("typing.", "")


def _set_dotted(tree: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"override '{key}': '{part}' is a value, not a section")
        node = child
    node[parts[-1]] = value


def _flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict) and (prefix + key) in SECTIONS:
            out.update(_flatten(value, prefix + key + "."))
        else:
            out[prefix + key] = value
    return out


def read_preset(preset: str, directory: Path | None = None) -> dict[str, Any]:
    """The raw YAML of a preset (a name like `cpu`, or a path to a YAML file)."""
    directory = directory or params_dir()
    path = Path(preset) if preset.endswith((".yaml", ".yml")) else directory / f"{preset}.yaml"
    if not path.is_file():
        names = ", ".join(available_presets(directory)) or "none"
        raise ConfigError(
            f"unknown preset '{preset}': {path} does not exist ({PRESETS_HINT}; available: {names})"
        )
    try:
        raw = yaml_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a preset must be a mapping of keys, got {type(raw).__name__}")
    return raw


def load_config(
    preset: str = "cpu",
    overrides: dict[str, Any] | None = None,
    directory: Path | None = None,
) -> Config:
    """Merge a preset with overrides (``None`` values are ignored) and validate.

    Raises ConfigError naming the offending key: unknown key (with the closest valid
    one), wrong type (with the expected type), or a missing preset file.
    """
    raw = read_preset(preset, directory)
    source = f"params/{preset}.yaml" if not preset.endswith((".yaml", ".yml")) else preset
    merged = _flatten(raw)
    origin = dict.fromkeys(merged, source)
    for key, value in _flatten(_expand(overrides or {})).items():
        if value is None:
            continue
        merged[key] = value
        origin[key] = "override"
    merged["preset"] = Path(preset).stem

    known = set(valid_keys())
    for key in merged:
        if key in MOVED:
            raise ConfigError(
                f"{origin.get(key, source)}: '{key}' moved to '{MOVED[key]}' (the `eval:` "
                "section: every notebook evaluates with the same settings)"
            )
        if key not in known:
            kind = "section" if isinstance(merged[key], dict) else "key"
            hint = _closest(key, section=kind == "section")
            raise ConfigError(f"{origin.get(key, source)}: unknown {kind} '{key}'{hint}")

    tree: dict[str, Any] = {}
    for key, value in merged.items():
        _set_dotted(tree, key, value)
    try:
        return Config.model_validate(tree)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if isinstance(p, str))
        key = ".".join(loc)
        where = origin.get(key, source)
        raise ConfigError(
            f"{where}: key '{key}' expects {_expected(Config, loc)}, got "
            f"{err.get('input')!r} ({type(err.get('input')).__name__}): {err['msg']}"
        ) from None


def _expand(overrides: dict[str, Any]) -> dict[str, Any]:
    """Accept both {"sft.lr": x} and {"sft": {"lr": x}}."""
    tree: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, dict) and key in SECTIONS:
            for sub, subvalue in value.items():
                _set_dotted(tree, f"{key}.{sub}", subvalue)
        else:
            _set_dotted(tree, key, value)
    return tree


def parse_override(text: str) -> tuple[str, Any]:
    """`key=value` from the command line; the value is parsed as YAML (`3`, `1e-4`, `[1,2]`)."""
    if "=" not in text:
        raise ConfigError(f"override '{text}' must look like key=value (e.g. sft.lr=1e-4)")
    key, value = text.split("=", 1)
    return key.strip(), (yaml_load(value) if value.strip() else None)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (and transformers' helpers) from one integer."""
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover
        pass
