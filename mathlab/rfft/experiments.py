"""The two experiments of 06_rfft, one call per setting: train (or load), evaluate, summarize.

* `run_lso(setting, p, ...)`: a Leave-Square-Out setting `<tokens>-<format>-<split>`
  (tokens: `digit`, `number`, or `lora` = the preset's pretrained model with its own
  tokenizer; format: `direct` or `scratchpad`; split: `square`, `random`, `holes`).
  Returns the accuracy over the whole grid, inside (held-out) vs outside (train)
  accuracy and the verdict: "hole" when inside is more than `HOLE_GAP` points below
  outside.
* `run_rfft(fmt, p, ...)`: multi-digit addition in one of the three formats, trained on
  1..`rfft_train_max_digits` digits, tested per digit count up to `rfft_test_max_digits`,
  with sample outputs and, for each wrong one, where it first leaves the gold target.

Models are cached per setting in `<models_dir>/rfft/<setting>/` keyed by a hash of
everything that shapes them (see `train.fit_or_load`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mathlab.metrics import eval_record
from mathlab.precision import train_bf16
from mathlab.rfft import tasks
from mathlab.rfft.tokenizers import build_tokenizer, number_tokenizer
from mathlab.rfft.train import (
    TrainLog,
    decode_texts,
    fit_or_load,
    greedy_decode,
    lora_wrap,
    make_examples,
    prompt_ids,
    tiny_llama,
    train_lm,
)
from mathlab.stats import rounded_mean
from mathlab.training import last_loss


def _training_fields(train: dict[str, Any], eval_s: float, cached: bool) -> dict[str, Any]:
    """The training/eval columns every result table row shares (LSO and RFFT)."""
    return {
        "steps": train["steps"],
        "batch_size": train["batch_size"],
        "final_loss": round(last_loss(train["history"]), 4),
        "train_s": train["seconds"],
        "tokens_per_s": train["tokens_per_s"],
        "precision": "bf16-autocast" if train.get("bf16") else "fp32",
        "eval_s": round(eval_s, 1),
        "cached": cached,
    }


def _mean4(xs: list[float]) -> float | None:
    return rounded_mean(xs, 4)


HOLE_GAP = 30.0  # points: inside this far below outside is a hole
TOKENS = ("digit", "number", "lora")
LSO_FORMATS = ("direct", "scratchpad")
FIT_MIN = 0.5  # outside (train) accuracy below this: the model did not learn the task


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class LSOSetting:
    tokens: str
    fmt: str
    split: str

    @property
    def name(self) -> str:
        return f"{self.tokens}-{self.fmt}-{self.split}"

    @property
    def budget_key(self) -> str:
        """The key of rfft.lso_steps that sets this setting's steps."""
        return f"{self.tokens}-{self.fmt}"

    @classmethod
    def parse(cls, name: str) -> LSOSetting:
        parts = name.split("-")
        if (
            len(parts) != 3
            or parts[0] not in TOKENS
            or parts[1] not in LSO_FORMATS
            or parts[2] not in tasks.SPLIT_KINDS
        ):
            raise ValueError(
                f"rfft.lso_settings: bad setting {name!r}; expected <tokens>-<format>-<split> with tokens in "
                f"{TOKENS}, format in {LSO_FORMATS}, split in {tasks.SPLIT_KINDS} (e.g. 'digit-direct-square')"
            )
        if parts[0] == "number" and parts[1] != "direct":
            raise ValueError(
                f"rfft.lso_settings: {name!r}: the scratchpad is written digit by digit; "
                "use 'digit-scratchpad-<split>'"
            )
        return cls(*parts)


def check_params(p) -> list[LSOSetting]:
    """Validate the rfft section beyond its types; returns the parsed LSO settings."""
    settings = [LSOSetting.parse(s) for s in p.lso_settings]
    for s in settings:
        if s.budget_key not in p.lso_steps:
            raise ValueError(
                f"rfft.lso_steps has no entry {s.budget_key!r} (needed by setting {s.name!r}); "
                f"it has {sorted(p.lso_steps)}"
            )
    for fmt in p.rfft_formats:
        if fmt not in tasks.FORMATS:
            raise ValueError(
                f"rfft.rfft_formats: unknown format {fmt!r}; expected one of {tasks.FORMATS}"
            )
        for name, table in (("rfft_steps", p.rfft_steps), ("rfft_batch_size", p.rfft_batch_size)):
            if fmt not in table:
                raise ValueError(
                    f"rfft.{name} has no entry for format {fmt!r}; it has {sorted(table)}"
                )
    runs = {s.budget_key for s in settings} | {
        f"rfft-{f}" if b == "scratch" else f"rfft-{b}-{f}"
        for b in p.rfft_backends
        for f in p.rfft_formats
    }
    for key in p.lr_by_run:
        if key not in runs:
            raise ValueError(
                f"rfft.lr_by_run: {key!r} names no run of this preset; runs: {sorted(runs)}"
            )
    if not 1 <= p.rfft_train_max_digits <= p.rfft_test_max_digits:
        raise ValueError(
            f"rfft: need 1 <= rfft_train_max_digits ({p.rfft_train_max_digits}) <= "
            f"rfft_test_max_digits ({p.rfft_test_max_digits})"
        )
    return settings


def make_lso_split(kind: str, p, seed: int) -> tasks.Split:
    return tasks.make_split(
        kind,
        n=p.lso_grid,
        half=p.lso_half,
        center=p.lso_center,
        test_frac=p.lso_random_frac,
        n_holes=p.lso_holes,
        hole_side=p.lso_hole_side,
        seed=seed,
    )


def verdict(inside: float, outside: float) -> str:
    """'hole' when inside accuracy is more than HOLE_GAP points below outside, else 'no hole'."""
    return "hole" if 100 * (outside - inside) > HOLE_GAP else "no hole"


# --------------------------------------------------------------------------- model backends
def run_lr(p, run_key: str, lora: bool) -> float:
    """The learning rate of one training run: rfft.lr_by_run[run_key], else lr (or lora_lr)."""
    return p.lr_by_run.get(run_key, p.lora_lr if lora else p.lr)


def _fit(
    name: str,
    run_key: str,
    p,
    fmt: str,
    pairs_train,
    tok,
    steps: int,
    batch_size: int,
    models_dir: Path,
    seed: int,
    device: str,
    lora: bool,
    model_spec: str,
    reverse: bool,
    key_extra: dict,
):
    """Train (or load from the stage cache) the model of one setting; returns fit_or_load's tuple."""
    texts = [tasks.format_example(fmt, a, b, reverse=reverse) for a, b in pairs_train]
    examples = make_examples(tok, texts)
    lr = run_lr(p, run_key, lora)
    bf16 = train_bf16(p.bf16, device)  # rfft.bf16, or by hardware: the key records the choice
    key = {
        "setting": name,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "bf16": bf16,
        "n_train": len(texts),
        "train_hash": _hash_pairs(pairs_train),
        "reverse": reverse,
        "vocab": _hash_pairs(list(tok.get_vocab().items())),
        **key_extra,
    }
    load = None
    if lora:
        from mathlab.models import load_model

        key |= {"model": model_spec, "lora_r": p.lora_r, "lora_alpha": p.lora_alpha}

        def build():
            base = load_model(model_spec, device=device, trainable=True, seed=seed)
            return lora_wrap(base, p.lora_r, p.lora_alpha), tok

        def load(folder: Path):
            return load_model(str(folder), device=device, seed=seed)
    else:
        key |= {"layers": p.layers, "hidden": p.hidden, "heads": p.heads}

        def build():
            return tiny_llama(tok, p.layers, p.hidden, p.heads, seed=seed).to(device), tok

    def fit(model) -> TrainLog:
        return train_lm(
            model,
            examples,
            steps,
            batch_size,
            lr,
            bf16=p.bf16,  # None: train_lm decides the same way (and says so)
            seed=seed,
            pad_id=tok.pad_token_id,
            desc=name,
        )

    model, tok, record, cached = fit_or_load(
        Path(models_dir) / "rfft" / name, key, build, fit, load
    )
    return model.to(device), tok, record, cached


def _hash_pairs(pairs) -> str:
    """A stable hash of a collection of pairs, whatever their order."""
    from mathlab.runs import stable_hash

    return stable_hash(sorted(pairs))


def _tokenizer(tokens: str, fmt: str, n: int, model_spec: str, extra_texts=()):
    """The tokenizer of a setting: word-level for digit/number, the model's own for lora."""
    if tokens == "lora":
        from mathlab.models import load_tokenizer

        return load_tokenizer(model_spec)
    if tokens == "number":
        return number_tokenizer(2 * (n - 1), ["0+0=", *extra_texts])
    samples = [tasks.format_example(fmt, a, b) for a, b in [(n - 1, n - 1), (0, 0), (n // 2, 7)]]
    return build_tokenizer([p + t for p, t in samples] + list(extra_texts), level="digit")


# --------------------------------------------------------------------------- LSO
@dataclass
class LSOResult:
    setting: LSOSetting
    split: tasks.Split
    accuracy: np.ndarray  # n x n, 1.0 where the greedy answer is right
    inside: float
    outside: float
    verdict: str
    record: dict[str, Any]
    cached: bool
    eval_s: float
    examples: list[dict[str, Any]] = field(default_factory=list)  # a few held-out outputs

    @property
    def inside_by_box(self) -> str:
        """Accuracy inside each held-out box, with its center (a, b): '(50,50) 10%; ...'."""
        parts = []
        for a0, a1, b0, b1 in self.split.boxes:
            acc = self.accuracy[a0 : a1 + 1, b0 : b1 + 1].mean()
            parts.append(f"({(a0 + a1) // 2},{(b0 + b1) // 2}) {acc:.0%}")
        return "; ".join(parts)

    @property
    def gap(self) -> float:
        return round(100 * (self.outside - self.inside), 1)

    def row(self) -> dict[str, Any]:
        train = self.record["train"]
        return {
            "setting": self.setting.name,
            "tokens": self.setting.tokens,
            "format": self.setting.fmt,
            "split": self.setting.split,
            "n_train": len(self.split.train),
            "n_heldout": len(self.split.test),
            "outside_acc": round(self.outside, 4),
            "inside_acc": round(self.inside, 4),
            "gap_points": self.gap,
            "inside_by_box": self.inside_by_box,
            "verdict": self.verdict,
            "fit": "learned" if self.outside >= FIT_MIN else "not learned",
            **_training_fields(train, self.eval_s, self.cached),
        }

    def evals(self, model: str) -> list[dict[str, Any]]:
        """Two eval records (held-out and train region) in the metrics contract."""
        common = {
            "stage": "lso",
            "style": self.setting.fmt,
            "model": f"{model}:{self.setting.name}",
            "tokens": self.setting.tokens,
            "split": self.setting.split,
            "verdict": self.verdict,
        }
        data = f"addition{self.split.n}-{self.setting.split}"
        return [
            eval_record(
                **common,
                dataset=f"{data}-heldout",
                n=len(self.split.test),
                accuracy=round(self.inside, 4),
            ),
            eval_record(
                **common,
                dataset=f"{data}-train",
                n=len(self.split.train),
                accuracy=round(self.outside, 4),
            ),
        ]


def run_lso(
    setting: LSOSetting | str,
    p,
    models_dir: str | Path,
    seed: int = 0,
    device: str = "cpu",
    model_spec: str = "",
) -> LSOResult:
    """Train (or load) one LSO setting and evaluate it on every pair of the grid."""
    import time

    setting = LSOSetting.parse(setting) if isinstance(setting, str) else setting
    n = p.lso_grid
    split = make_lso_split(setting.split, p, seed)
    tok = _tokenizer(setting.tokens, setting.fmt, n, model_spec)
    steps = p.lso_steps[setting.budget_key]
    model, tok, record, cached = _fit(
        setting.name,
        setting.budget_key,
        p,
        setting.fmt,
        split.train,
        tok,
        steps,
        p.batch_size,
        models_dir,
        seed,
        device,
        setting.tokens == "lora",
        model_spec,
        False,
        {"grid": n, "split": setting.split, "heldout_hash": _hash_pairs(split.test)},
    )
    start = time.time()
    grid = [(a, b) for a in range(n) for b in range(n)]
    pairs = [tasks.format_example(setting.fmt, a, b) for a, b in grid]
    max_new = max(len(ids) for ids in prompt_ids(tok, [t for _, t in pairs], bos=False)) + 2
    outs = decode_texts(
        tok,
        greedy_decode(
            model,
            prompt_ids(tok, [q for q, _ in pairs]),
            max_new,
            tok.eos_token_id,
            batch_size=p.eval_batch_size,
        ),
    )
    acc = np.zeros((n, n))
    for (a, b), out in zip(grid, outs):
        acc[a, b] = float(tasks.parse_answer(setting.fmt, out) == a + b)
    inside, outside = float(acc[split.heldout].mean()), float(acc[~split.heldout].mean())
    wrong = [(a, b, outs[a * n + b]) for a, b in split.test if acc[a, b] == 0][:5]
    examples = [{"a": a, "b": b, "gold": a + b, "output": o} for a, b, o in wrong]
    return LSOResult(
        setting,
        split,
        acc,
        inside,
        outside,
        verdict(inside, outside),
        record,
        cached,
        time.time() - start,
        examples,
    )


# --------------------------------------------------------------------------- RFFT
@dataclass
class RFFTResult:
    fmt: str
    backend: str  # scratch | lora
    by_digits: dict[int, float]  # digit count -> accuracy
    record: dict[str, Any]
    cached: bool
    eval_s: float
    samples: list[dict[str, Any]]  # every test output with its parse and first divergence

    def row(self) -> dict[str, Any]:
        train = self.record["train"]
        return {
            "format": self.fmt,
            "backend": self.backend,
            **{f"acc_{d}": round(v, 3) for d, v in self.by_digits.items()},
            "skeleton_ok": round(
                sum(s["skeleton_ok"] for s in self.samples) / max(1, len(self.samples)), 3
            ),
            **_training_fields(train, self.eval_s, self.cached),
        }

    @property
    def skeleton_by_digits(self) -> dict[int, float]:
        """Share of outputs per digit count whose skeleton (digits masked) matches the gold."""
        return {
            d: _mean4([float(s["skeleton_ok"]) for s in self.samples if s["digits"] == d])
            for d in self.by_digits
        }

    def eval_record(self, model: str, train_max: int) -> dict[str, Any]:
        """One eval record: mean accuracy over all test digit counts, plus `by_digits`."""
        n = sum(1 for _ in self.samples)
        return eval_record(
            stage="rfft",
            model=f"{model}:rfft-{self.fmt}",
            dataset=f"addition-1-{max(self.by_digits)}digits",
            style=self.fmt,
            n=n,
            accuracy=round(sum(s["correct"] for s in self.samples) / max(n, 1), 4),
            backend=self.backend,
            accuracy_in_train_range=_mean4(
                [v for d, v in self.by_digits.items() if d <= train_max]
            ),
            accuracy_beyond_train=_mean4([v for d, v in self.by_digits.items() if d > train_max]),
            by_digits={str(d): round(v, 4) for d, v in self.by_digits.items()},
            skeleton_ok_by_digits={str(d): v for d, v in self.skeleton_by_digits.items()},
        )


def skeleton(text: str) -> list[str]:
    """The skeleton of an output: each line with its digits masked (`s=x+y+c:s=#+#+#=##`).

    Two outputs with the same skeleton recite the same lines in the same order with values
    of the same shape; only the digits may differ.
    """
    return [re.sub(r"\d", "#", line) for line in text.split("\n")]


def first_divergence(gold: str, pred: str) -> dict[str, Any] | None:
    """Where a prediction first leaves the gold target: line number (1-based) and both lines."""
    g, q = gold.split("\n"), pred.split("\n")
    for i in range(max(len(g), len(q))):
        gl = g[i] if i < len(g) else "<end>"
        ql = q[i] if i < len(q) else "<end>"
        if gl != ql:
            return {"line": i + 1, "of": len(g), "gold": gl, "pred": ql}
    return None


def run_rfft(
    fmt: str,
    p,
    models_dir: str | Path,
    seed: int = 0,
    device: str = "cpu",
    model_spec: str = "",
    backend: str = "scratch",
) -> RFFTResult:
    """Train (or load) one format on 1..train_max digits; accuracy per digit count up to test_max."""
    import time

    train_pairs, test = tasks.rfft_problems(
        (1, p.rfft_train_max_digits),
        (1, p.rfft_test_max_digits),
        p.rfft_n_train,
        p.rfft_n_test,
        seed,
    )
    reverse = p.rfft_reverse and backend == "scratch"
    probe = [tasks.format_example(fmt, 10**d - 1, 10**d - 1, reverse) for d in (1, 2)]
    tok = _tokenizer(
        "lora" if backend == "lora" else "digit", fmt, 10, model_spec, [q + t for q, t in probe]
    )
    name = f"rfft-{fmt}" if backend == "scratch" else f"rfft-{backend}-{fmt}"
    model, tok, record, cached = _fit(
        name,
        name,
        p,
        fmt,
        train_pairs,
        tok,
        p.rfft_steps[fmt],
        p.rfft_batch_size[fmt],
        models_dir,
        seed,
        device,
        backend == "lora",
        model_spec,
        reverse,
        {"train_max_digits": p.rfft_train_max_digits},
    )
    start = time.time()
    by_digits, samples = {}, []
    for d, pairs in test.items():
        texts = [tasks.format_example(fmt, a, b, reverse) for a, b in pairs]
        gold_len = max(len(ids) for ids in prompt_ids(tok, [t for _, t in texts], bos=False))
        seqs = greedy_decode(
            model,
            prompt_ids(tok, [q for q, _ in texts]),
            int(gold_len * 1.1) + 4,
            tok.eos_token_id,
            batch_size=p.eval_batch_size,
        )
        right = 0
        for (a, b), (_, gold), out, seq in zip(pairs, texts, decode_texts(tok, seqs), seqs):
            pred = tasks.parse_answer(fmt, out, reverse)
            right += pred == a + b
            samples.append(
                {
                    "digits": d,
                    "a": a,
                    "b": b,
                    "gold": gold,
                    "output": out,
                    "pred": pred,
                    "correct": pred == a + b,
                    "n_tokens": len(seq),
                    "divergence": None if out == gold else first_divergence(gold, out),
                    "skeleton_ok": skeleton(out) == skeleton(gold),
                }
            )
        by_digits[d] = right / len(pairs)
    return RFFTResult(fmt, backend, by_digits, record, cached, time.time() - start, samples)


# --------------------------------------------------------------------------- reporting
def write_samples(path: str | Path, result: RFFTResult, model: str, seed: int) -> Path:
    """Every RFFT test output as Sample rows (style 'rfft'; format and digits in meta)."""
    from mathlab.data.records import Sample, write_jsonl

    rows = [
        Sample(
            problem_id=f"add{s['digits']}-{s['a']}+{s['b']}",
            model=f"{model}:rfft-{result.fmt}",
            style="rfft",
            prompt=f"{s['a']}+{s['b']}",
            completion=s["output"],
            pred=None if s["pred"] is None else str(s["pred"]),
            correct=bool(s["correct"]),
            n_tokens=s["n_tokens"],
            seed=seed,
            meta={
                "format": result.fmt,
                "digits": s["digits"],
                "gold": str(s["a"] + s["b"]),
                "divergence": s["divergence"],
            },
        )
        for s in result.samples
    ]
    return write_jsonl(path, rows)


def breakdown_table(results: list[RFFTResult], train_max: int, per_digit: int = 1):
    """One wrong output per format and digit count from train_max up: where it leaves the gold."""
    import pandas as pd

    rows = []
    for r in results:
        for d in sorted(r.by_digits):
            if d < train_max:
                continue
            wrong = [s for s in r.samples if s["digits"] == d and not s["correct"]][:per_digit]
            for s in wrong:
                div = s["divergence"] or {}
                rows.append(
                    {
                        "format": r.fmt,
                        "digits": d,
                        "accuracy": r.by_digits[d],
                        "problem": f"{s['a']}+{s['b']}",
                        "gold": str(s["a"] + s["b"]),
                        "pred": "-" if s["pred"] is None else str(s["pred"]),
                        "breaks at line": f"{div.get('line')}/{div.get('of')}" if div else "",
                        "gold line": div.get("gold", ""),
                        "model line": div.get("pred", ""),
                        "trace check": rule_check(s) if r.fmt == "rule" else "",
                    }
                )
    return pd.DataFrame(rows)


def compare_lines(result: RFFTResult, digits: int, max_lines: int = 24):
    """Gold and model output line by line for the first test problem with `digits` digits."""
    import pandas as pd

    sample = next(s for s in result.samples if s["digits"] == digits)
    gold, out = sample["gold"].split("\n"), sample["output"].split("\n")
    rows = [
        {"line": i + 1, "gold": g, "model": o, "same": g == o}
        for i, (g, o) in enumerate(
            zip(gold + [""] * (len(out) - len(gold)), out + [""] * (len(gold) - len(out)))
        )
    ]
    title = f"{result.fmt}, {sample['a']}+{sample['b']}: model answer {sample['pred']} (gold {sample['a'] + sample['b']})"
    return title, pd.DataFrame(rows[:max_lines])


def rule_check(sample: dict[str, Any]) -> str:
    """'ok' when a rule-following output executes correctly, else the first broken line."""
    try:
        tasks.check_rule_trace(sample["a"], sample["b"], sample["output"])
    except tasks.TraceError as exc:
        return str(exc)[:120]
    return "ok"


PAPER = {  # Hu et al. 2024 (arXiv 2402.17709): the headline findings we compare with
    "lso": "GPT-2 (BPE: most 2-digit numbers one token), fine-tuned: a hole inside the square "
    "(near-zero accuracy), ~100% outside",
    "lso_scratchpad": "scratchpad fine-tuning does not fill the hole",
    "rfft": "RFFT trained on 1-5 digits: >95% at 12 digits (GPT-3.5); scratchpad far below",
}


def paper_comparison(lso: list[LSOResult], rfft: list[RFFTResult], train_max: int):
    """The paper's findings next to ours, one row per comparable setting."""
    import pandas as pd

    rows = []
    for r in lso:
        if r.setting.split != "square":
            continue
        paper = PAPER["lso_scratchpad"] if r.setting.fmt == "scratchpad" else PAPER["lso"]
        if r.setting.tokens == "digit" and r.setting.fmt == "direct":
            paper = "(not in the paper: GPT-2 does not write numbers digit by digit)"
        rows.append(
            {
                "experiment": f"LSO {r.setting.name}",
                "paper": paper,
                "ours": f"inside {r.inside:.0%} vs outside {r.outside:.0%}: {r.verdict}",
            }
        )
    for r in rfft:
        top = max(r.by_digits)
        rows.append(
            {
                "experiment": f"addition, {r.fmt} ({r.backend})",
                "paper": PAPER["rfft"] if r.fmt == "rule" else "",
                "ours": f"1-{train_max} digits: {_mean4([v for d, v in r.by_digits.items() if d <= train_max]):.0%}; "
                f"{top} digits: {r.by_digits[top]:.0%}",
            }
        )
    return pd.DataFrame(rows)
