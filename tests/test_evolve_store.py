"""01_evolve's files: kept and eliminated children on disk, 02 reads the kept ones."""

import pytest

from mathlab.data.records import Problem, read_jsonl
from mathlab.evolve.eliminate import mark
from mathlab.evolve.store import evolve_path, read_kept, write_children
from mathlab.runs import MissingArtifact, Run


def _child(i, parent, reason=None, question="Ann has 3 apples and buys 2 more. How many now?"):
    p = Problem(
        f"c{i}",
        question,
        "5",
        "3+2=<<3+2=5>>5\n#### 5",
        "evolve",
        "train",
        {"parent_id": parent, "evolve_op": "deepen", "backend": "symbolic"},
    )
    return mark(p, reason)


def test_children_round_trip_and_02_reads_only_kept_children_of_its_parents(tmp_path):
    run = Run(tmp_path / "run", notebook="01_evolve")
    rows = [
        _child(0, "gen-1"),
        _child(1, "gen-2"),
        _child(2, "gen-1", "refusal"),
        _child(3, "gen-1", "unparseable", question=""),
    ]
    rows[3] = Problem(**{**rows[3].to_dict(), "answer": ""})
    path = write_children(run, "deepen", rows)
    assert path == evolve_path(run, "deepen") == run.path / "evolve" / "deepen.jsonl"
    back = read_jsonl(path, check_answer=False)
    assert [r.meta["eliminated_reason"] for r in back] == [None, None, "refusal", "unparseable"]
    assert back[3].question == "[eliminated: unparseable]" and back[3].answer == "[none]"
    assert [p.id for p in read_kept(run, ["deepen"])] == ["c0", "c1"]
    assert [p.id for p in read_kept(run, ["deepen"], {"gen-1"})] == ["c0"]
    with pytest.raises(MissingArtifact, match="01_evolve"):
        read_kept(run, ["fobar"])


def test_a_kept_child_needs_a_gold_answer(tmp_path):
    run = Run(tmp_path / "run", notebook="01_evolve")
    bad = Problem(**{**_child(0, "gen-1").to_dict(), "answer": "None"})
    with pytest.raises(ValueError, match="deepen: kept child c0"):
        write_children(run, "deepen", [bad])
