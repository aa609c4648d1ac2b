"""The notebooks of the project, in order: what each one is, what it writes, what it needs.

One table, read by `Run.require` (which notebook provides a missing file), by the runner
(the order, and a clear line for a notebook that is not registered) and by the analysis
(`runs.collect`: titles and order). Adding a notebook starts here: see
docs/ARCHITECTURE.md, "Adding a notebook".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotebookSpec:
    """One numbered notebook.

    `provides`: run-folder paths it writes (a path or a folder prefix, relative to the run
    folder); `requires`: the notebooks whose outputs it reads; `built`: False while the
    notebook is still to come (its spec reserves the number and the outputs).
    """

    name: str  # "02_sft": the file notebooks/<name>.ipynb and metrics/<name>.json
    title: str
    provides: tuple[str, ...]
    requires: tuple[str, ...] = ()
    built: bool = True

    @property
    def number(self) -> str:
        return self.name[:2]

    @property
    def metrics(self) -> str:
        return f"metrics/{self.name}.json"


NOTEBOOKS: tuple[NotebookSpec, ...] = (
    NotebookSpec(
        "00_data",
        "Data: generated problems, real sets, decontamination",
        ("data/",),
    ),
    NotebookSpec(
        "01_evolve",
        "Instruction evolution: Evol-Instruct, dual evolving, MetaMath augmentations",
        ("evolve/",),
        ("00_data",),
    ),
    NotebookSpec(
        "02_sft",
        "Supervised fine-tuning, data-amount and data-format ablations",
        (
            "models/sft",
            "models/sft_ablations/",
            "samples/sft",
            "samples/baseline",
            "samples/ablation_",
        ),
        ("00_data",),
    ),
    NotebookSpec(
        "03_rft",
        "Rejection-sampling fine-tuning",
        ("models/rft", "models/rft_union", "samples/rft"),
        ("00_data", "02_sft"),
    ),
    NotebookSpec(
        "04_reward_models",
        "Outcome, process and instruction reward models; best-of-N",
        ("models/orm", "models/prm", "models/irm"),
        ("00_data", "02_sft", "03_rft", "01_evolve"),
        built=False,
    ),
    NotebookSpec(
        "05_ppo_dpo",
        "DPO, PPO and GRPO from the SFT model",
        ("models/dpo", "models/ppo", "models/grpo", "models/rloo"),
        ("00_data", "02_sft", "03_rft", "04_reward_models"),
        built=False,
    ),
    NotebookSpec(
        "06_rfft",
        "Case-based or rule-based: Leave-Square-Out and rule-following fine-tuning",
        ("models/rfft/", "samples/rfft"),
    ),
    NotebookSpec(
        "07_analysis",
        "Analysis: every stage side by side, the reproduced phenomena, the report",
        ("report.html",),
        ("00_data", "02_sft", "03_rft", "06_rfft"),
        built=False,
    ),
)

BY_NAME = {spec.name: spec for spec in NOTEBOOKS}
BY_NUMBER = {spec.number: spec for spec in NOTEBOOKS}


def notebook(name_or_number: str) -> NotebookSpec:
    """The spec for "02", "2", "02_sft" or "02_sft.ipynb"; a clear error otherwise."""
    key = str(name_or_number).strip().removesuffix(".ipynb").split("_")[0].zfill(2)
    if key not in BY_NUMBER:
        have = ", ".join(spec.name for spec in NOTEBOOKS)
        raise KeyError(f"no notebook {name_or_number!r} in mathlab.registry (have: {have})")
    return BY_NUMBER[key]


def provider_of(relpath: str) -> str | None:
    """The notebook that writes `relpath` (relative to the run folder), or None."""
    relpath = str(relpath).replace("\\", "/")
    for folder in ("metrics/", "notebooks/", "figures/", "params/"):  # named after the notebook
        if relpath.startswith(folder):
            stem = relpath.removeprefix(folder).split("__")[0].split(".")[0]
            return stem if stem in BY_NAME else None
    best: tuple[int, str] | None = None
    for spec in NOTEBOOKS:
        for prefix in spec.provides:
            bare = prefix.rstrip("/")
            if relpath == bare or relpath.startswith(bare + "/") or relpath.startswith(prefix):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), spec.name)
    return best[1] if best else None
