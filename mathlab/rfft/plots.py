"""Figures of 06_rfft: LSO accuracy heatmaps, RFFT length-generalization curves (the loss
curves: ``mathlab.plots.loss_curves``)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle


def lso_heatmaps(results, ncols: int = 3):
    """One accuracy heatmap per LSO setting (a down, b across), held-out region outlined."""
    n_plots = len(results)
    ncols = min(ncols, n_plots)
    nrows = math.ceil(n_plots / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 4.3 * nrows), squeeze=False)
    for ax, r in zip(axes.flat, results):
        n = r.split.n
        tick = max(1, n // 5)
        sns.heatmap(
            r.accuracy,
            ax=ax,
            vmin=0,
            vmax=1,
            cmap="viridis",
            cbar=True,
            square=True,
            xticklabels=tick,
            yticklabels=tick,
            cbar_kws={"label": "accuracy", "shrink": 0.8},
        )
        ax.invert_yaxis()
        for a0, a1, b0, b1 in r.split.boxes:
            ax.add_patch(
                Rectangle((b0, a0), b1 - b0 + 1, a1 - a0 + 1, fill=False, edgecolor="red", lw=1.6)
            )
        if not r.split.boxes:  # random split: mark held-out cells with dots
            ys, xs = r.split.heldout.nonzero()
            ax.scatter(
                xs + 0.5, ys + 0.5, s=0.3 if n > 30 else 4, c="red", marker=".", linewidths=0
            )
        ax.set_title(
            f"{r.setting.name}\ninside {r.inside:.0%} vs outside {r.outside:.0%}: {r.verdict}",
            fontsize=10,
        )
        ax.set_xlabel("b")
        ax.set_ylabel("a")
    for ax in list(axes.flat)[n_plots:]:
        ax.set_visible(False)
    fig.suptitle(
        "Leave-Square-Out: greedy accuracy of a+b over the grid (red: held out of training)"
    )
    fig.tight_layout()
    return fig


def rfft_curves(table: pd.DataFrame, train_max: int, title: str = ""):
    """Accuracy (and, if given, the right-skeleton rate) against digit count, per format.

    `table` has columns format, digits, accuracy, optionally backend and skeleton_ok (the
    share of outputs with the gold's lines and value shapes, digits aside).
    """
    panels = [("accuracy", "exact-match accuracy (greedy)")]
    if "skeleton_ok" in table:
        panels.append(("skeleton_ok", "right lines & shapes (digits masked)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(7.0 * len(panels), 4.2), squeeze=False)
    style = "backend" if "backend" in table and table["backend"].nunique() > 1 else "format"
    for ax, (column, label) in zip(axes[0], panels):
        sns.lineplot(
            data=table,
            x="digits",
            y=column,
            hue="format",
            style=style,
            markers=True,
            dashes=style == "backend",
            ax=ax,
        )
        ax.axvspan(
            0.5, train_max + 0.5, color="grey", alpha=0.15, label=f"trained on 1-{train_max} digits"
        )
        ax.set_xticks(sorted(table["digits"].unique()))
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("digits per operand")
        ax.set_ylabel(label)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(title or "Rule-Following Fine-Tuning: length generalization by answer format")
    fig.tight_layout()
    return fig
