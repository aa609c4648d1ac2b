"""Small seaborn figure helpers shared by the notebooks (02_sft, 03_rft; 06_rfft's losses).

Each returns a matplotlib Figure with a title, axis labels and a legend, readable without
the code; the notebook saves it with ``run.savefig(fig, name)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _plt():
    import matplotlib.pyplot as plt
    import seaborn as sns

    return plt, sns


def loss_curves(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    title: str = "Training loss",
    ylabel: str = "training loss (completion tokens)",
    log_scale: bool = False,
    markers: bool = True,
):
    """Training loss against optimizer step, one line per run ({label: loss history}; a loss
    history is a list of {"step", "loss", ...} entries, see mathlab.training)."""
    import pandas as pd

    plt, sns = _plt()
    rows = [
        {"run": label, "step": h["step"], "loss": h["loss"]}
        for label, hist in histories.items()
        for h in hist
    ]
    fig, ax = plt.subplots(figsize=(7, 4))
    if rows:
        sns.lineplot(
            data=pd.DataFrame(rows),
            x="step",
            y="loss",
            hue="run",
            marker="o" if markers else None,
            ax=ax,
        )
    if log_scale:
        ax.set_yscale("log")
    ax.set(title=title, xlabel="optimizer step", ylabel=ylabel)
    fig.tight_layout()
    return fig


def accuracy_by(
    records: Sequence[Mapping[str, Any]], breakdown: str, title: str, label_key: str = "stage"
):
    """Grouped bars: accuracy per group (``by_family`` / ``by_steps``), one hue per record."""
    import pandas as pd

    plt, sns = _plt()
    rows = []
    for rec in records:
        for group, stats in (rec.get(breakdown) or {}).items():
            rows.append(
                {
                    "group": str(group),
                    "accuracy": stats.get("accuracy") or 0.0,
                    "model": rec.get(label_key),
                    "n": stats.get("n"),
                }
            )
    frame = pd.DataFrame(rows)
    order = sorted(frame["group"].unique(), key=lambda g: (len(g), g)) if rows else []
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(order) + 3), 4))
    if rows:
        sns.barplot(data=frame, x="group", y="accuracy", hue="model", order=order, ax=ax)
        ax.tick_params(axis="x", rotation=45 if breakdown == "by_family" else 0)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right" if breakdown == "by_family" else "center")
    ax.set(
        title=title,
        xlabel=breakdown.replace("by_", "").replace("_", " "),
        ylabel="greedy accuracy",
        ylim=(0, 1),
    )
    fig.tight_layout()
    return fig


def accuracy_bars(
    rows: Sequence[Mapping[str, Any]],
    x: str,
    hue: str | None,
    title: str,
    xlabel: str,
    y: str = "accuracy",
    ci: bool = True,
):
    """Bars of `y` by `x` (and `hue`), with Wilson 95% intervals when rows carry ci_lo/ci_hi."""
    import pandas as pd

    plt, sns = _plt()
    frame = pd.DataFrame(list(rows))
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.barplot(data=frame, x=x, y=y, hue=hue, ax=ax)
    if ci and {"ci_lo", "ci_hi"} <= set(frame.columns):
        xs = list(dict.fromkeys(frame[x]))
        hues = list(dict.fromkeys(frame[hue])) if hue else [None]
        for container, h in zip(ax.containers, hues, strict=False):
            for bar, xv in zip(container, xs, strict=False):
                match = frame[(frame[x] == xv) & ((frame[hue] == h) if hue else True)]
                if match.empty:
                    continue
                r = match.iloc[0]
                cx = bar.get_x() + bar.get_width() / 2
                ax.errorbar(
                    cx,
                    r[y],
                    yerr=[[r[y] - r["ci_lo"]], [r["ci_hi"] - r[y]]],
                    color="black",
                    capsize=3,
                    lw=1,
                )
    ax.set(title=title, xlabel=xlabel, ylabel=y.replace("_", " "), ylim=(0, 1))
    fig.tight_layout()
    return fig


def scaling_curve(rows: Sequence[Mapping[str, Any]], title: str, baseline: float | None = None):
    """Accuracy against training problems on a log axis (RFT: log-linear in data amount)."""
    import pandas as pd

    plt, sns = _plt()
    frame = pd.DataFrame(list(rows))
    fig, ax = plt.subplots(figsize=(6, 4))
    sns.lineplot(data=frame, x="n_train", y="accuracy", marker="o", ax=ax, label="SFT")
    if {"ci_lo", "ci_hi"} <= set(frame.columns):
        ax.fill_between(
            frame["n_train"], frame["ci_lo"], frame["ci_hi"], alpha=0.2, label="Wilson 95% interval"
        )
    if baseline is not None:
        ax.axhline(baseline, ls="--", color="grey", label="before SFT")
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(frame["n_train"]), [str(n) for n in frame["n_train"]])
    ax.set(title=title, xlabel="training problems (log scale)", ylabel="greedy accuracy")
    ax.legend()
    fig.tight_layout()
    return fig


def paths_vs_k(rows: Sequence[Mapping[str, Any]], title: str):
    """Correct and distinct reasoning paths per question against k, one line per model."""
    import pandas as pd

    plt, sns = _plt()
    frame = pd.DataFrame(list(rows))
    long = frame.melt(
        id_vars=["model", "k"],
        value_vars=["correct_per_question", "distinct_per_question"],
        var_name="paths",
        value_name="per_question",
    )
    long["paths"] = long["paths"].map(
        {"correct_per_question": "correct", "distinct_per_question": "distinct (Algorithm 1)"}
    )
    fig, ax = plt.subplots(figsize=(7, 4))
    sns.lineplot(data=long, x="k", y="per_question", hue="model", style="paths", marker="o", ax=ax)
    ax.set_xscale("log", base=2)
    ks = sorted(frame["k"].unique())
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set(
        title=title,
        xlabel="samples per question k (log scale)",
        ylabel="reasoning paths per question",
    )
    fig.tight_layout()
    return fig
