"""The rewriting prompts of instruction evolution, close to each paper's wording.

WizardMath (Luo et al., 2023, arXiv:2308.09583) evolves GSM8K/MATH questions with WizardLM's
Evol-Instruct (Xu et al., 2023, arXiv:2304.12244): *upward* with WizardLM's in-depth prompts
("I want you act as a Prompt Rewriter ...": add a constraint, deepen, concretize, ask for more
reasoning steps), *downward* to an easier question (or an easier one on another topic), and
*in breadth* with WizardLM's in-breadth prompt ("a brand new prompt ... in the same domain ...
even more rare"). KwaiYiiMath (Fu et al., 2023, arXiv:2310.07488) adds *dual evolving* in depth
(here: the problem rewritten as a chain of sub-questions, each answer feeding the next) and
*constrained mutation* in breadth (a new problem with the same skill and number of steps in
a new context). MetaMath (Yu et al., 2023, arXiv:2309.12284) rephrases the question ("Rephrase
the above question:", here without its few-shot examples).

Each template has one ``{question}`` slot (filled by :func:`rewrite_messages` with
``str.replace``, so braces in a question, e.g. LaTeX, are safe). Every template asks for a
math word problem with one numerical answer, and for the problem only (no solution), since
the rewritten problem is solved and its answer verified by a vote afterwards.

>>> PROMPTS["deepen"].paper, PROMPTS["deepen"].direction
('WizardMath', 'up')
>>> rewrite_messages("rephrase", "What is 2 + 3?")[0]["content"].splitlines()[-1]
'Rephrase the above question:'
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PROMPTS", "RewritePrompt", "rewrite_messages"]


class RewritePrompt(NamedTuple):
    """A rewriting prompt: its template (one ``{question}`` slot), the paper it follows and
    the direction of the evolution (``up``, ``down``, ``breadth``, ``depth``, ``rephrase``)."""

    template: str
    paper: str
    direction: str


# WizardLM's in-depth base instruction ("I want you act as a Prompt Rewriter"), with "prompt"
# kept and the one change WizardMath needs: the result stays a solvable math word problem.
_DEPTH = (
    "I want you act as a Prompt Rewriter.\n"
    "Your objective is to rewrite a given prompt into a more complex version to make those "
    "famous AI systems (e.g., chatgpt and GPT4) a bit harder to handle.\n"
    "But the rewritten prompt must be reasonable and must be understood and responded by "
    "humans. It must stay a math word problem with exactly one numerical answer that can be "
    "worked out from the numbers it gives.\n"
    "You SHOULD complicate the given prompt using the following method:\n"
    "{method}\n"
    "You should try your best not to make the #Rewritten Prompt# become verbose, "
    "#Rewritten Prompt# can only add 10 to 20 words into #The Given Prompt#.\n"
    "'#The Given Prompt#', '#Rewritten Prompt#', 'given prompt' and 'rewritten prompt' are "
    "not allowed to appear in #Rewritten Prompt#. Write only the problem, not its solution.\n"
    "#The Given Prompt#:\n{question}\n"
    "#Rewritten Prompt#:\n"
)

# WizardMath's downward evolution, in the in-depth prompt's form.
_DOWN = (
    "I want you act as a Prompt Rewriter.\n"
    "Your objective is to rewrite a given prompt into an easier version: either revise it "
    "into a problem of lower difficulty (fewer steps, simpler numbers), or produce a new and "
    "easier problem with another different topic.\n"
    "The rewritten prompt must be reasonable and must be understood and responded by humans. "
    "It must stay a math word problem with exactly one numerical answer.\n"
    "'#The Given Prompt#', '#Rewritten Prompt#', 'given prompt' and 'rewritten prompt' are "
    "not allowed to appear in #Rewritten Prompt#. Write only the problem, not its solution.\n"
    "#The Given Prompt#:\n{question}\n"
    "#Rewritten Prompt#:\n"
)

# WizardLM's in-breadth prompt ("I want you act as a Prompt Creator").
_BREADTH = (
    "I want you act as a Prompt Creator.\n"
    "Your goal is to draw inspiration from the #Given Prompt# to create a brand new prompt.\n"
    "This new prompt should belong to the same domain as the #Given Prompt# but be even more "
    "rare.\n"
    "The LENGTH and complexity of the #Created Prompt# should be similar to that of the "
    "#Given Prompt#.\n"
    "The #Created Prompt# must be reasonable and must be understood and responded by humans. "
    "It must be a math word problem with exactly one numerical answer.\n"
    "'#Given Prompt#', '#Created Prompt#', 'given prompt' and 'created prompt' are not "
    "allowed to appear in #Created Prompt#. Write only the problem, not its solution.\n"
    "#Given Prompt#:\n{question}\n"
    "#Created Prompt#:\n"
)

# KwaiYiiMath's dual evolving (in depth): the same problem asked as chained sub-questions.
_DECOMPOSE = (
    "I want you act as a Prompt Rewriter.\n"
    "Rewrite the math word problem below as a chain of sub-questions: first state the facts, "
    "then ask two or three sub-questions in order, where each sub-question uses the answer "
    "of the one before, and the last sub-question asks for the final quantity. The final "
    "answer must be a single number. Write only the problem, not its solution.\n"
    "#The Given Prompt#:\n{question}\n"
    "#Rewritten Prompt#:\n"
)

# KwaiYiiMath's constrained mutation (in breadth): same skill and steps, a new context.
_MUTATE = (
    "I want you act as a Prompt Creator.\n"
    "Create a new math word problem that needs the same mathematical skill and the same "
    "number of reasoning steps as the #Given Prompt#, but in a different everyday context, "
    "with different names, objects and numbers. It must have exactly one numerical answer. "
    "Write only the problem, not its solution.\n"
    "#Given Prompt#:\n{question}\n"
    "#Created Prompt#:\n"
)

PROMPTS: dict[str, RewritePrompt] = {
    "add_constraint": RewritePrompt(
        _DEPTH.replace(
            "{method}", "Please add one more constraints/requirements into #The Given Prompt#."
        ),
        "WizardMath",
        "up",
    ),
    "deepen": RewritePrompt(
        _DEPTH.replace(
            "{method}",
            "If #The Given Prompt# contains inquiries about certain issues, the depth and "
            "breadth of the inquiry can be increased.",
        ),
        "WizardMath",
        "up",
    ),
    "concretize": RewritePrompt(
        _DEPTH.replace("{method}", "Please replace general concepts with more specific concepts."),
        "WizardMath",
        "up",
    ),
    "more_steps": RewritePrompt(
        _DEPTH.replace(
            "{method}",
            "If #The Given Prompt# can be solved with just a few simple thinking processes, you "
            "can rewrite it to explicitly request multiple-step reasoning.",
        ),
        "WizardMath",
        "up",
    ),
    "downward": RewritePrompt(_DOWN, "WizardMath", "down"),
    "breadth": RewritePrompt(_BREADTH, "WizardMath", "breadth"),
    "decompose": RewritePrompt(_DECOMPOSE, "KwaiYiiMath", "depth"),
    "mutate": RewritePrompt(_MUTATE, "KwaiYiiMath", "breadth"),
    "rephrase": RewritePrompt(
        "Question: {question}\nRephrase the above question:", "MetaMath", "rephrase"
    ),
}


def rewrite_messages(op: str, question: str) -> list[dict[str, str]]:
    """The chat messages asking a rewriter to apply `op` to `question` (one user turn)."""
    if op not in PROMPTS:
        raise ValueError(f"unknown rewriting operator {op!r}; choose one of: {', '.join(PROMPTS)}")
    return [
        {"role": "user", "content": PROMPTS[op].template.replace("{question}", question.strip())}
    ]
