"""Every generation backend implements mathlab.generate.Backend, structurally: the same
members, flags declared on the class itself (no getattr defaults anywhere), and a
``generate`` that takes the protocol's arguments (the fast one also ToolBackend's)."""

from __future__ import annotations

import importlib.util
import inspect

import pytest

from mathlab.engine import FastBackend
from mathlab.generate import (
    Backend,
    HFBackend,
    OpenAIBackend,
    SamplingParams,
    ToolBackend,
    VLLMBackend,
    get_backend,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MEMBERS = {
    "kind",
    "name",
    "tokenizer",
    "supports_stop_regex",
    "supports_logprobs",
    "supports_tools",
    "generate",
}
# kind, supports_stop_regex, supports_logprobs, supports_tools
CLASSES = {
    FastBackend: ("fast", True, True, True),
    HFBackend: ("hf", True, True, False),
    VLLMBackend: ("vllm", False, False, False),
    OpenAIBackend: ("openai", False, False, False),
}
HAS_VLLM = importlib.util.find_spec("vllm") is not None


def protocol_members(proto) -> set[str]:
    names = set(proto.__annotations__)
    return names | {n for n, v in vars(proto).items() if callable(v) and not n.startswith("_")}


def test_the_protocol_has_the_members_checked_here():
    assert protocol_members(Backend) == MEMBERS
    assert protocol_members(ToolBackend) >= {"generate"}


@pytest.mark.parametrize("cls", list(CLASSES), ids=lambda c: c.__name__)
def test_each_backend_class_declares_the_protocol_flags(cls):
    kind, stop_regex, logprobs, tools = CLASSES[cls]
    declared = vars(cls)  # on the class itself: nothing relies on a getattr default
    for flag in ("kind", "supports_stop_regex", "supports_logprobs", "supports_tools"):
        assert flag in declared, f"{cls.__name__} does not declare {flag}"
    assert (cls.kind, cls.supports_stop_regex, cls.supports_logprobs, cls.supports_tools) == (
        kind,
        stop_regex,
        logprobs,
        tools,
    )
    assert callable(cls.generate)


def _params(fn) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("cls", list(CLASSES), ids=lambda c: c.__name__)
def test_each_generate_takes_the_protocol_arguments(cls):
    proto, own = _params(Backend.generate), _params(cls.generate)
    assert [(p.name, p.kind, p.default) for p in own[: len(proto)]] == [
        (p.name, p.kind, p.default) for p in proto
    ]
    for extra in own[len(proto) :]:  # anything more is optional and keyword-only
        assert extra.kind is inspect.Parameter.KEYWORD_ONLY and extra.default is not extra.empty


def test_the_tool_backends_take_the_tool_arguments():
    for cls, (_, _, _, tools) in CLASSES.items():
        if tools:
            assert [(p.name, p.kind, p.default) for p in _params(cls.generate)] == [
                (p.name, p.kind, p.default) for p in _params(ToolBackend.generate)
            ]


@pytest.fixture(scope="module")
def tiny():
    from mathlab.models import load_model, load_tokenizer

    return load_model("tiny-random"), load_tokenizer("tiny-random")


def test_instances_are_backends(tiny):
    model, tok = tiny
    backends = [
        FastBackend(model, tok, slots=2, show_progress=False),
        HFBackend(model, tok, batch_size=2, show_progress=False),
        OpenAIBackend("teacher", base_url="http://127.0.0.1:9/v1"),
    ]
    for b in backends:
        assert isinstance(b, Backend), type(b).__name__
        assert get_backend(b) is b  # a backend passes through the factory as it is
        assert isinstance(b.name, str) and b.name
        assert (b.tokenizer is None) == (b.kind == "openai")
    assert not isinstance(model, Backend) and not isinstance("tiny-random", Backend)


def test_backends_without_logprobs_say_so():
    b = OpenAIBackend("teacher", base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(ValueError, match="logprobs"):
        b.generate(["2 + 2?"], SamplingParams(logprobs=True))
    with pytest.raises(ValueError, match="stop_regex"):
        b.generate(["2 + 2?"], SamplingParams(stop_regex=["x"]))


@pytest.mark.skipif(not HAS_VLLM, reason="vllm (the gpu extra) is not installed")
def test_vllm_takes_the_sampling_arguments_the_backend_passes():
    import vllm

    vllm.SamplingParams(
        n=2,
        temperature=0.7,
        top_p=0.9,
        max_tokens=8,
        min_tokens=1,
        stop=["x"],
        seed=0,
        include_stop_str_in_output=False,
    )
