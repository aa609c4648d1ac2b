"""Instruction evolution and augmentation (01_evolve): WizardMath's Evol-Instruct, KwaiYiiMath's
dual evolving and constrained mutation, MetaMath's augmentations.

* :mod:`mathlab.evolve.eliminate`: WizardLM's elimination rules, one named reason each.
* :mod:`mathlab.evolve.symbolic`: operators that edit a generated problem's program, so the
  child's solution and answer are exact by construction.
* :mod:`mathlab.evolve.llm`: the same operators as prompts to any generation backend, with
  answers verified by a vote of several solves.

Every child is a :class:`~mathlab.data.records.Problem` with ``meta.parent_id``,
``meta.evolve_op``, ``meta.backend`` (``symbolic`` | ``llm``) and ``meta.eliminated_reason``
(``None`` when kept).
"""
