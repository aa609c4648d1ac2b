"""The prompts every notebook shares: one builder per decoding style.

Training (SFT, RFT, DPO, ...) and evaluation must use the same prompt for a style, so
both call these functions. Each returns chat messages (a list of {"role", "content"});
the backend applies the model's chat template.

>>> cot_messages("Tom has 3 apples and buys 2 more. How many apples does he have?")[-1]["role"]
'user'
"""

from __future__ import annotations

STYLES = ("cot", "calc", "pot", "hybrid", "tir")

COT_INSTRUCTION = "Solve the problem step by step. End with a line of the form 'The answer is: N'."
POT_INSTRUCTION = (
    "Write a short Python program that solves the problem and prints only the final numeric "
    "answer. Put the program in a ```python code block."
)
TIR_INSTRUCTION = (
    "Solve the problem step by step. You may run Python: write code in a ```python block and "
    "its result will appear in a ```output block. End with a line of the form 'The answer is: N'."
)


def cot_messages(question: str) -> list[dict[str, str]]:
    """Chain of thought (also the calculator style: same prompt, a calculator loop at decode)."""
    return [{"role": "user", "content": f"{question.strip()}\n{COT_INSTRUCTION}"}]


def pot_messages(question: str) -> list[dict[str, str]]:
    """Program of thought: a program that prints the answer (run in the sandbox)."""
    return [{"role": "user", "content": f"{question.strip()}\n{POT_INSTRUCTION}"}]


def tir_messages(question: str) -> list[dict[str, str]]:
    """Tool-integrated reasoning (Qwen2.5-Math style interleaved python/output blocks)."""
    return [{"role": "user", "content": f"{question.strip()}\n{TIR_INSTRUCTION}"}]


def messages_for(question: str, style: str) -> list[dict[str, str]]:
    if style in ("cot", "calc"):
        return cot_messages(question)
    if style in ("pot", "hybrid"):
        return pot_messages(question)
    if style == "tir":
        return tir_messages(question)
    raise ValueError(f"unknown style '{style}' (expected one of {', '.join(STYLES)})")
