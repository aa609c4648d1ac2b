"""The vLLM backend: offline inference on a CUDA GPU (the ``gpu`` extra, imported only when
a backend is built). See :mod:`mathlab.generate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mathlab.backend_common import (
    BackendBase,
    Completion,
    Prompt,
    SamplingParams,
    encode_text,
    render_prompts,
)


class VLLMBackend(BackendBase):
    """vLLM offline inference (the ``gpu`` extra); imported only when built.

    spec: any model spec of ``mathlab.models`` that resolves to a folder or a hub id
    (a PEFT adapter is served as a LoRA on its base). Extra options go to ``vllm.LLM``
    (e.g. ``tensor_parallel_size=2``, ``gpu_memory_utilization=0.85``).
    """

    kind = "vllm"
    supports_stop_regex = False
    supports_logprobs = False
    supports_tools = False

    def __init__(
        self,
        spec: str,
        dtype: str = "auto",
        seed: int = 0,
        max_model_len: int | None = 4096,
        name: str | None = None,
        **llm_kwargs: Any,
    ):
        try:
            import vllm
        except ImportError as exc:
            raise ImportError(
                "the vLLM backend needs the gpu extra: pip install -e '.[gpu]' (and a CUDA GPU)"
            ) from exc
        from mathlab.models import _adapter_base, convert_embedded, load_tokenizer, resolve_spec

        kind, path = resolve_spec(spec)
        self.lora = None
        if kind == "adapter":
            from vllm.lora.request import LoRARequest

            base = _adapter_base(path)
            self.lora = LoRARequest("adapter", 1, str(path))
            llm_kwargs.setdefault("enable_lora", True)
            spec_for_model = base
        else:
            spec_for_model = spec
        base_kind, base_path = resolve_spec(spec_for_model)
        if base_kind in ("embedded", "tiny"):
            model_path = str(convert_embedded())
            if base_kind == "tiny":
                raise ValueError(
                    "the vLLM backend does not serve 'tiny-random' (it lives only in memory); use kind='hf'"
                )
        else:
            model_path = str(base_path) if base_path is not None else spec_for_model
        self.tokenizer = load_tokenizer(spec)
        self.name = name or spec
        self.llm = vllm.LLM(
            model=model_path, dtype=dtype, seed=seed, max_model_len=max_model_len, **llm_kwargs
        )
        self._vllm = vllm

    def _generate(
        self, prompts: Sequence[Prompt], sampling: SamplingParams, desc: str
    ) -> list[list[Completion]]:
        rendered = render_prompts(self.tokenizer, prompts)
        params = self._vllm.SamplingParams(
            n=sampling.n,
            temperature=float(sampling.temperature),
            top_p=float(sampling.top_p),
            max_tokens=sampling.max_new_tokens,
            min_tokens=sampling.min_new_tokens,
            stop=sampling.stop or None,
            seed=sampling.seed,
            include_stop_str_in_output=False,
        )
        token_prompts = [  # the same tokens as the HF backend reads
            {"prompt_token_ids": encode_text(self.tokenizer, t, templated)}
            for t, templated in rendered
        ]
        outputs = self.llm.generate(token_prompts, params, lora_request=self.lora, use_tqdm=False)
        result = []
        for out in outputs:
            comps = []
            for o in out.outputs:
                if o.finish_reason == "length":
                    reason, stop = "length", None
                elif isinstance(o.stop_reason, str):
                    reason, stop = "stop", o.stop_reason
                else:
                    reason, stop = "eos", None
                comps.append(Completion(o.text, len(o.token_ids), reason, stop))
            result.append(comps)
        return result
