"""Rewards with TRL's signature, for RL trainers (GRPO, RLOO, PPO) and best-of-N.

Every reward here is a function ``reward(completions, solution=None, prompts=None, **kw) ->
list[float | None]`` — the signature TRL's ``GRPOTrainer`` and ``RLOOTrainer`` call their
``reward_funcs`` with (``prompts``, ``completions``, ``completion_ids`` and every dataset
column, such as ``solution``, as keyword arguments). A completion is a string or a TRL
conversation (a list of messages; the last message's ``content`` is scored). ``None`` means
"no reward for this row" (TRL skips it): a correctness reward returns ``None`` when the gold
answer cannot be parsed, never a free 0 or 1.

* :func:`correctness`: 1.0 right, 0.0 wrong (``mathlab.answers.is_correct``: integers
  exactly, decimals within 1e-4, math-verify for the rest).
* :func:`answer_format`: 1.0 when the completion ends with a ``The answer is: ...`` line
  that holds an answer, else 0.0 (the SFT format the other notebooks grade).
* A **learned scorer** (an outcome or process reward model, 04_reward_models) is any callable
  of the same signature; :func:`shaped` combines one with correctness as Qwen2.5-Math does
  for RL (r = sigmoid(0.5 * r_m) + (r_v - 1)).
* :func:`get_reward` names them for parameters (``"correctness"``, ``"format"``), and
  :func:`register_reward` adds one (a trained scorer under its stage name).
* The evaluation harness's best-of-N hook (``mathlab.evaluate.evaluate(..., scorer=...)``)
  accepts any of them: :func:`score_group` scores the k completions of one problem.

>>> correctness(["2 + 3 = 5. The answer is: 5", "The answer is: 6", "5"], ["5", "5", "None"])
[1.0, 0.0, None]
>>> answer_format(["Steps.\\nThe answer is: 5", "Steps. 5"])
[1.0, 0.0]
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Reward",
    "answer_format",
    "completion_text",
    "correctness",
    "get_reward",
    "register_reward",
    "score_group",
    "shaped",
]


@runtime_checkable
class Reward(Protocol):
    """A reward function (or a learned scorer) with TRL's reward signature."""

    def __call__(self, completions: list, **kwargs: Any) -> list[float | None]: ...


def completion_text(completion: object) -> str:
    """The text of a completion: a string, or a TRL conversation's last message."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    return "" if completion is None else str(completion)


def correctness(
    completions: list, solution: Sequence[str] | None = None, **kwargs: Any
) -> list[float | None]:
    r"""1.0 for a right final answer, 0.0 for a wrong or missing one, None for a bad gold.

    ``solution``: the gold answers (a bare answer or a solution with ``#### x`` /
    ``\boxed{x}``), one per completion. ``timeout`` (keyword) bounds each symbolic
    comparison in seconds.

    >>> correctness([[{"role": "assistant", "content": r"\boxed{18}"}]], ["18"])
    [1.0]
    """
    from mathlab.answers import DEFAULT_TIMEOUT_S, GoldAnswerError, is_correct

    if solution is None:
        raise ValueError(
            "the correctness reward needs the gold answers: a `solution` column in the dataset"
        )
    timeout = float(kwargs.get("timeout", DEFAULT_TIMEOUT_S))
    rewards: list[float | None] = []
    for completion, gold in zip(completions, solution, strict=True):
        try:
            ok = is_correct(completion_text(completion), gold, timeout=timeout)
        except GoldAnswerError:
            rewards.append(None)
            continue
        rewards.append(1.0 if ok else 0.0)
    return rewards


_FINAL_LINE = re.compile(r"the\s+answer\s+is\s*[:：]\s*\S", re.IGNORECASE)


def answer_format(completions: list, **kwargs: Any) -> list[float | None]:
    """1.0 when the last non-empty line is ``The answer is: <answer>`` with an answer that
    can be extracted, else 0.0."""
    from mathlab.answers import extract_answer

    rewards: list[float | None] = []
    for completion in completions:
        lines = [ln for ln in completion_text(completion).strip().splitlines() if ln.strip()]
        last = lines[-1] if lines else ""
        ok = bool(_FINAL_LINE.match(last.strip())) and extract_answer(last) is not None
        rewards.append(1.0 if ok else 0.0)
    return rewards


def shaped(scorer: Reward, weight: float = 0.5) -> Reward:
    """Qwen2.5-Math's RL reward: ``sigmoid(weight * r_m) + (r_v - 1)``, where r_m is a learned
    scorer's score and r_v the correctness reward (None where either is None).

    A right answer scores in (0, 1), a wrong one in (-1, 0): the reward model ranks answers
    within each group, correctness separates the groups.
    """

    def reward(completions: list, **kwargs: Any) -> list[float | None]:
        r_m = scorer(completions, **kwargs)
        r_v = correctness(completions, **kwargs)
        return [
            None if m is None or v is None else 1.0 / (1.0 + math.exp(-weight * m)) + (v - 1.0)
            for m, v in zip(r_m, r_v, strict=True)
        ]

    reward.__name__ = f"shaped_{getattr(scorer, '__name__', type(scorer).__name__)}"
    return reward


_REWARDS: dict[str, Reward] = {"correctness": correctness, "format": answer_format}


def register_reward(name: str, reward: Reward) -> Reward:
    """Make `reward` available to :func:`get_reward` (a trained scorer under its name)."""
    if not callable(reward):
        raise TypeError(f"reward {name!r} is a {type(reward).__name__}, not a callable")
    _REWARDS[name] = reward
    return reward


def get_reward(name_or_reward: str | Reward) -> Reward:
    """A reward by name (``correctness``, ``format``, or one registered), or the callable."""
    if callable(name_or_reward):
        return name_or_reward
    try:
        return _REWARDS[name_or_reward]
    except KeyError:
        known = ", ".join(sorted(_REWARDS))
        raise ValueError(f"unknown reward {name_or_reward!r} (known: {known})") from None


def score_group(
    reward: Reward | str | Callable[..., list], question: str, gold: str, completions: list[str]
) -> list[float]:
    """The scores of one problem's k completions, for best-of-N: the reward called with
    TRL's keywords (``prompts``, ``completions``, ``solution``); a None score ranks last."""
    fn = get_reward(reward)
    n = len(completions)
    scores = fn(completions=completions, prompts=[question] * n, solution=[gold] * n)
    if len(scores) != n:
        name = getattr(fn, "__name__", type(fn).__name__)
        raise ValueError(f"reward {name!r} returned {len(scores)} scores for {n} completions")
    return [-math.inf if s is None else float(s) for s in scores]
