"""One training lifecycle for every notebook that trains a model (02_sft, 03_rft, 06_rfft).

A *stage* is one model folder trained from known inputs (:class:`Stage`):

* key: :func:`stage_key` hashes everything that shapes the model (the data or a hash of
  it, the parameters, the base model, the seed, the length of training);
* reuse: a folder whose stage record holds the same key, and whose model files are there,
  is a finished stage: it is loaded, not trained again (:meth:`Stage.finished`);
* resume: a trainer that checkpoints writes into :attr:`Stage.checkpoints`; a re-run with
  the same key resumes from the last checkpoint there, and checkpoints written under
  another key are removed (:meth:`Stage.begin`);
* atomic save: the model goes into a temporary sibling folder, the stage record last, and
  the folder is swapped into place (:meth:`Stage.save`), so a killed run never leaves a
  half-written model that a later run would trust;
* loss history: a list of ``{"step": int, "loss": float, ...}`` entries (optimizer step and
  mean training loss since the previous entry), kept in the stage record
  (:func:`last_loss`; figures: ``mathlab.plots.loss_curves``).

The stage record is ``<folder>/stage.json`` (:data:`STAGE_FILE`): ``{"key": <hash>, ...}``
plus what the trainer reports (``mathlab.sft.TrainResult``; 06_rfft: its inputs, training
log and parameter count).

Older run folders are read, not retrained: 02_sft and 03_rft wrote the same record as
``mathlab_stage.json``; 06_rfft wrote ``stage.json`` with the hash under ``"hash"``, the
inputs under ``"key"`` and the loss history as ``[step, loss]`` pairs (``train.losses``).
:func:`read_stage` returns both in the current form; a folder is rewritten in that form
only when it is trained again.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mathlab.runs import atomic_write_json, stable_hash

STAGE_FILE = "stage.json"
LEGACY_STAGE_FILES = ("mathlab_stage.json",)  # 02_sft / 03_rft folders written before
CHECKPOINTS = "checkpoints"
CHECKPOINT_KEY = "mathlab_key.json"  # in the checkpoints folder: the key they were written under
MODEL_FILES = ("config.json", "adapter_config.json")  # a full model or a PEFT adapter


def stage_key(inputs: Mapping[str, Any]) -> str:
    """The cache key of a stage: a short stable hash of everything that shapes the model."""
    return stable_hash(inputs)


def read_stage(folder: str | Path) -> dict[str, Any] | None:
    """The stage record of `folder` in the current form (older forms upgraded), else None."""
    folder = Path(folder)
    for name in (STAGE_FILE, *LEGACY_STAGE_FILES):
        path = folder / name
        if not path.is_file():
            continue
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError:
            return None
        return _upgrade(record) if isinstance(record, dict) else None
    return None


def _upgrade(record: dict[str, Any]) -> dict[str, Any]:
    """A 06_rfft record from before (hash under "hash", losses as pairs) in the current form."""
    if "hash" in record and not isinstance(record.get("key"), str):
        rest = {k: v for k, v in record.items() if k not in ("hash", "key")}
        record = {"key": record["hash"], "inputs": record.get("key"), **rest}
    train = record.get("train")
    if isinstance(train, dict) and "losses" in train and "history" not in train:
        pairs = train.pop("losses")
        train["history"] = [{"step": int(s), "loss": float(v)} for s, v in pairs]
    return record


def stage_model_key(spec: str) -> str:
    """What a model depends on: a trained folder's stage key, else the spec itself."""
    record = read_stage(spec) if Path(spec).is_dir() else None
    return record.get("key", spec) if record else spec


def last_loss(history: Sequence[Mapping[str, Any]]) -> float | None:
    """The loss of the last entry of a loss history (None when there is none)."""
    return float(history[-1]["loss"]) if history else None


class Stage:
    """One model folder trained from known inputs: reuse, resume, atomic save."""

    def __init__(self, folder: str | Path, key: str, label: str = "stage"):
        self.folder = Path(folder)
        self.key = key
        self.label = label

    @property
    def checkpoints(self) -> Path:
        """Where a checkpointing trainer writes (removed once the stage is saved)."""
        return self.folder / CHECKPOINTS

    def finished(self) -> dict[str, Any] | None:
        """The stored record when the folder holds a finished stage with this key, else None."""
        record = read_stage(self.folder)
        if record is None or record.get("key") != self.key:
            return None
        if not any((self.folder / f).is_file() for f in MODEL_FILES):
            return None  # the record survived but the model files did not: train again
        return record

    def begin(self, force: bool = False, checkpoints: bool = True) -> str | None:
        """Get the folder ready to train; returns the checkpoint to resume from (or None).

        A record of other inputs is dropped (with a line saying so). With `checkpoints`:
        the checkpoints of this key are kept and the last one returned, those of another key
        (or all of them, with `force`) removed; the folder is made and marked with the key.
        """
        for name in (STAGE_FILE, *LEGACY_STAGE_FILES):
            if (self.folder / name).is_file():
                print(
                    f"{self.label}: {self.folder} holds a model trained with other data or "
                    f"parameters; retraining replaces it",
                    flush=True,
                )
                (self.folder / name).unlink()
        if not checkpoints:
            return None
        ckpt = self.checkpoints
        resume = None if force else self._last_checkpoint()
        if force and ckpt.exists():
            shutil.rmtree(ckpt)
        ckpt.mkdir(parents=True, exist_ok=True)
        atomic_write_json(ckpt / CHECKPOINT_KEY, {"key": self.key})
        return resume

    def _last_checkpoint(self) -> str | None:
        """The last checkpoint of this very stage (same key), or None (stale ones removed)."""
        from transformers.trainer_utils import get_last_checkpoint

        ckpt = self.checkpoints
        if not ckpt.is_dir():
            return None
        marker = ckpt / CHECKPOINT_KEY
        stored = json.loads(marker.read_text()).get("key") if marker.is_file() else None
        if stored != self.key:
            print(f"removing checkpoints of another configuration in {ckpt}", flush=True)
            shutil.rmtree(ckpt)
            return None
        return get_last_checkpoint(str(ckpt))

    def save(self, write_model: Callable[[Path], None], record: Mapping[str, Any]) -> dict:
        """Write the finished stage atomically; returns the record stored (with the key).

        ``write_model(folder)`` saves the model (and tokenizer) into a temporary sibling
        folder; the record goes in last, then that folder replaces this one (checkpoints
        included: a finished stage keeps none)."""
        record = {**record, "key": self.key}
        tmp = self.folder.with_name(f".{self.folder.name}.tmp")
        old = self.folder.with_name(f".{self.folder.name}.old")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        write_model(tmp)
        atomic_write_json(tmp / STAGE_FILE, record)
        shutil.rmtree(old, ignore_errors=True)
        if self.folder.exists():
            self.folder.rename(old)
        tmp.rename(self.folder)
        shutil.rmtree(old, ignore_errors=True)
        return record


def free_memory() -> None:
    """Collect a finished trainer's (or backend's) reference cycles now, so the next stage
    starts with its memory."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
