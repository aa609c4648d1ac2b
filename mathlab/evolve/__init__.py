"""Instruction evolution and augmentation (01_evolve): WizardMath's Evol-Instruct, KwaiYiiMath's
dual evolving and constrained mutation, MetaMath's augmentations.

* :mod:`mathlab.evolve.eliminate`: WizardLM's elimination rules, one named reason each, and
  :class:`~mathlab.evolve.eliminate.EvolveResult` (one operator's children and skips).
* :mod:`mathlab.evolve.symbolic`: operators that edit a generated problem's program, so the
  child's solution and answer are exact by construction (``constraints`` and ``phrasing``
  hold their wording tables).
* :mod:`mathlab.evolve.llm` + :mod:`mathlab.evolve.prompts`: the same operators as the
  papers' prompts to any generation backend, answers verified by a vote of several solves;
  MetaMath's answer augmentation and text-only FOBAR/SV for real sets.
* :mod:`mathlab.evolve.diversity`: distinct-n, spread and difficulty of a problem set.
* :mod:`mathlab.evolve.store`: ``RUN_DIR/evolve/<op>.jsonl``, written by 01 and read by 02.

Every child is a :class:`~mathlab.data.records.Problem` with ``meta.parent_id``,
``meta.evolve_op``, ``meta.backend`` (``symbolic`` | ``llm``) and ``meta.eliminated_reason``
(``None`` when kept).
"""
