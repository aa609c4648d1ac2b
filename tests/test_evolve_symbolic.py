"""Symbolic evolution operators (01_evolve): every kept child is exact by construction, and
each operator does what its paper's operation says."""

import dataclasses
import doctest
import random
import re
from collections import Counter
from fractions import Fraction

import pytest

from mathlab.calculator import evaluate
from mathlab.data.generator import FAMILIES, generate_problem, generate_problems
from mathlab.data.program import execute_program, number_json
from mathlab.data.records import Problem
from mathlab.data.solutions import program_key
from mathlab.evolve import constraints, phrasing, symbolic
from mathlab.evolve.eliminate import REASONS
from mathlab.evolve.symbolic import OPERATORS, Operator, check_exact, evolve

N_PARENTS = 2000  # add_constraint, decompose, fobar, sv
N_GENERATED = 250  # deepen, downward, breadth, mutate: each child is a new generated problem
GENERATED_OPS = ("deepen", "downward", "breadth", "mutate")


@pytest.fixture(scope="module")
def parents():
    return generate_problems(N_PARENTS, seed=0, min_steps=1, max_steps=4)


@pytest.fixture(scope="module")
def results(parents):
    return {
        op: evolve(parents[:N_GENERATED] if op in GENERATED_OPS else parents, op, seed=0)
        for op in OPERATORS
    }


@pytest.fixture(scope="module")
def by_id(parents):
    return {p.id: p for p in parents}


def pairs(results, by_id, op):
    return [(by_id[c.meta["parent_id"]], c) for c in results[op].kept]


_ANNOTATION = re.compile(r"<<([^<>=]+)=([^<>=]+)>>([^\s<]*)")


def recomputes(problem: Problem) -> bool:
    """An independent check from the text alone: every annotation's expression equals its
    value, the number written after it is that value, and ``#### x`` is the answer."""
    found = _ANNOTATION.findall(problem.solution)
    for expr, value, shown in found:
        if Fraction(evaluate(expr)) != Fraction(value) or not shown.startswith(value):
            return False
    final = re.findall(r"^#### (.+)$", problem.solution, re.MULTILINE)
    return bool(found) and final == [problem.answer]


# ------------------------------------------------------------------ every operator
@pytest.mark.parametrize("op", list(OPERATORS))
def test_every_kept_child_is_exact(results, op):
    result = results[op]
    assert len(result.kept) > 0.6 * result.n_parents, result.counts()
    assert result.counts()["not_exact"] == 0
    for child in result.kept:
        assert check_exact(child), (child.id, symbolic.exactness_errors(child))
        assert recomputes(child), child.id
        program = child.meta["program"]
        assert Fraction(execute_program(program)) == Fraction(child.answer)
        assert child.solution.count("<<") == len(program["steps"]) == child.meta["steps"]


@pytest.mark.parametrize("op", list(OPERATORS))
def test_children_carry_the_evolution_fields(results, by_id, op):
    paper, direction = OPERATORS[op].paper, OPERATORS[op].direction
    for parent, child in pairs(results, by_id, op)[:200]:
        child.validate()
        assert child.id == f"{parent.id}~{op}"
        assert (child.source, child.split) == ("evolve", parent.split)
        meta = child.meta
        assert (meta["parent_id"], meta["evolve_op"], meta["backend"]) == (
            parent.id,
            op,
            "symbolic",
        )
        assert (meta["paper"], meta["direction"], meta["eliminated_reason"]) == (
            paper,
            direction,
            None,
        )
        for key in ("family", "steps", "lang", "answer_kind", "program", "surface"):
            assert key in meta, (op, key)


@pytest.mark.parametrize("op", list(OPERATORS))
def test_counts_add_up(results, op):
    counts = results[op].counts()
    assert set(REASONS) <= set(counts) and counts["op"] == op
    assert counts["kept"] + sum(counts[r] for r in REASONS) == counts["children"]
    assert counts["children"] + counts["skipped"] == counts["parents"]
    assert sum(counts["skipped_by"].values()) == counts["skipped"]


# ------------------------------------------------------------------ what each one does
def _mean_steps(problems):
    return sum(p.meta["steps"] for p in problems) / len(problems)


def test_add_constraint_adds_one_step_and_one_clause(results, by_id):
    found = pairs(results, by_id, "add_constraint")
    assert len(found) > 0.8 * N_PARENTS
    for parent, child in found:
        assert child.meta["steps"] == parent.meta["steps"] + 1
        assert child.solution.splitlines()[:-2] == parent.solution.splitlines()[:-1]
        before = parent.meta["surface"]["sentences"][:-1]
        assert child.meta["surface"]["sentences"][:-1] == before
        assert child.question != parent.question and child.answer != parent.answer
        last = child.meta["program"]["steps"][-1]
        assert last["expr"].startswith(parent.meta["program"]["answer"])
    parents_ = [p for p, _ in found]
    assert _mean_steps([c for _, c in found]) == pytest.approx(_mean_steps(parents_) + 1)
    clauses = Counter(c.meta["clause"][0] for _, c in found)
    assert set(clauses) == {"+", "-", "*", "/"}, clauses


def test_add_constraint_rewrites_an_age_question():
    parent = next(
        p
        for p in generate_problems(200, seed=0, families=["ages"], max_steps=1)
        if re.fullmatch(r"How old is \w+\?", p.meta["surface"]["sentences"][-1])
    )
    child = symbolic.add_constraint(parent, seed=0)[0]
    last = child.question.rsplit(". ", 1)[-1]
    assert re.fullmatch(r"How old (will \w+ be in|was \w+) \d+ years( ago)?\?", last), last
    assert re.search(r"years old\.\n#### ", child.solution)


def test_add_constraint_skips_a_question_no_clause_fits():
    program = {
        "inputs": {"a": 2},
        "steps": [{"var": "odd", "expr": "a*3", "value": 6}],
        "answer": "odd",
        "kinds": {"a": "count", "odd": "count"},
    }
    with pytest.raises(constraints.NoClause):
        constraints.constrain(program, ["How many?"], "How many?", "", "x", random.Random(0))


def test_deepen_and_downward_move_the_step_count(results, by_id):
    deep = pairs(results, by_id, "deepen")
    assert len(deep) == N_GENERATED
    for parent, child in deep:
        assert child.meta["family"] == parent.meta["family"]
        assert child.meta["steps"] == parent.meta["steps"] + 1
    down = pairs(results, by_id, "downward")
    for parent, child in down:
        if parent.meta["steps"] > 1:
            assert child.meta["family"] == parent.meta["family"]
            assert child.meta["steps"] == parent.meta["steps"] - 1
        else:
            assert child.meta["family"] != parent.meta["family"] and child.meta["steps"] == 1
    assert _mean_steps([c for _, c in down]) < _mean_steps([p for p, _ in down])
    six = generate_problem("ages", 6, seed=0)
    assert evolve([six], "deepen", seed=0).counts()["skipped_by"] == {"max_steps": 1}


def test_breadth_goes_to_the_rarest_families(results, by_id):
    for parent, child in pairs(results, by_id, "breadth"):
        assert child.meta["family"] != parent.meta["family"]
        assert child.meta["steps"] == parent.meta["steps"]
    few = generate_problems(12, seed=1, families=["ages", "comparison", "unit_price"])
    counts = {f: 50 for f in FAMILIES} | {"rate_distance": 0, "work_rate": 1}
    result = evolve(few, "breadth", seed=0, families=FAMILIES, family_counts=counts)
    chosen = [c.meta["family"] for c in result.children]
    assert chosen[0] == "rate_distance"
    assert Counter(chosen[:3]) == {"rate_distance": 2, "work_rate": 1}
    assert set(chosen) == {"rate_distance", "work_rate"}
    assert counts["rate_distance"] == 0  # the caller's counts are not changed
    # by default only the parents' own families are used (a held-out family never leaks in)
    default = evolve(few, "breadth", seed=0)
    assert {c.meta["family"] for c in default.children} <= {"ages", "comparison", "unit_price"}


def test_mutate_keeps_family_and_steps_with_a_new_context(results, by_id):
    for parent, child in pairs(results, by_id, "mutate"):
        assert (child.meta["family"], child.meta["steps"]) == (
            parent.meta["family"],
            parent.meta["steps"],
        )
        assert child.question != parent.question
        assert program_key(child) != program_key(parent)


def test_decompose_asks_each_intermediate_and_keeps_the_answer(results, by_id):
    found = pairs(results, by_id, "decompose")
    fallbacks = total = 0
    for parent, child in found:
        n = parent.meta["steps"]
        assert n >= 2 and child.answer == parent.answer
        assert child.meta["program"] == parent.meta["program"]
        assert re.findall(r"\((\d)\) ", child.question) == [str(i) for i in range(1, n + 1)]
        lines = child.solution.splitlines()
        assert [line[:4] for line in lines[:-1]] == [f"({i}) " for i in range(1, n + 1)]
        assert [line[4:] for line in lines[:-1]] == parent.solution.splitlines()[:-1]
        subs = child.meta["sub_questions"][:-1]
        assert len(subs) == len(set(subs)) == n - 1
        fallbacks += sum(q.startswith("What is the result of step") for q in subs)
        total += len(subs)
    assert fallbacks < 0.03 * total, (fallbacks, total)
    assert results["decompose"].skipped == {
        "one_step": sum(p.meta["steps"] == 1 for p in by_id.values())
    }


def test_sub_question_phrases():
    lines = [
        "Nia is 6+14=<<6+14=20>>20 years old.",
        "So Ben baked 3*4=<<3*4=12>>12 pies on Friday.",
    ]
    assert phrasing.sub_question("age", "age", "ages", lines[0], 1) == "How old is Nia?"
    assert (
        phrasing.sub_question("amount2", "count", "comparison", lines[1], 2)
        == "How many pies did Ben bake on Friday?"
    )
    assert (
        phrasing.sub_question("zzz", "count", "x", lines[1], 2) == "What is the result of step 2?"
    )


@pytest.mark.parametrize("op", ["fobar", "sv"])
def test_backward_children_solve_back_to_the_masked_input(results, by_id, op):
    for parent, child in pairs(results, by_id, op):
        bw = child.meta["backward"]
        program = dict(parent.meta["program"], inputs=dict(parent.meta["program"]["inputs"]))
        program["inputs"][bw["masked"]] = number_json(Fraction(child.answer))
        assert Fraction(execute_program(program, check=False)) == Fraction(parent.answer)
        assert Fraction(child.answer) == Fraction(
            str(parent.meta["program"]["inputs"][bw["masked"]])
        )
    if op == "sv":
        kept = results["sv"].kept
        assert all(c.question.endswith("What is the value of unknown variable x?") for c in kept)
        assert all("If we know the answer" not in c.question for c in kept)
        forms = Counter(c.meta["sv_form"] for c in kept)
        assert forms["declarative"] > 0.85 * len(kept), forms


@pytest.mark.parametrize(
    ("question", "answer", "kind", "expected"),
    [
        ("How much does Oscar pay?", "$58.50", "money", "Oscar pays $58.50."),
        ("How many cookies did Ravi bake?", "24", "count", "Ravi baked 24 cookies."),
        ("How old is Amir?", "12", "age", "Amir is 12 years old."),
        ("How many stamps does Freya still have?", "9", "count", "Freya still has 9 stamps."),
        ("What was each person's share, in dollars?", "$4", "money", "Each person's share was $4."),
        (
            "If he sold x% of them, how many strawberries are left?",
            "30",
            "count",
            "If he sold x% of them, 30 strawberries are left.",
        ),
        ("How long will the job take, in hours?", "5", "hours", "The job will take 5 hours."),
    ],
)
def test_statements(question, answer, kind, expected):
    assert phrasing.statement(question, answer, kind) == (expected, True)


def test_statement_falls_back_to_quoting():
    text, declarative = phrasing.statement("Why is the sky blue?", "7")
    assert (text, declarative) == ('The answer to "Why is the sky blue?" is 7.', False)


# ------------------------------------------------------------------ evolve itself
def test_deterministic(parents):
    few = parents[:40]
    for op in OPERATORS:
        a, b = evolve(few, op, seed=3), evolve(few, op, seed=3)
        assert [c.to_dict() for c in a.children] == [c.to_dict() for c in b.children], op
        assert a.skipped == b.skipped
    other = evolve(few, "deepen", seed=4)
    assert [c.question for c in other.children] != [
        c.question for c in evolve(few, "deepen", 3).children
    ]


def test_chinese_parents():
    zh = generate_problems(30, seed=0, zh_frac=1.0)
    assert evolve(zh, "add_constraint", seed=0).counts()["skipped_by"] == {"lang": 30}
    assert evolve(zh, "decompose", seed=0).counts()["children"] == 0
    for op in ("fobar", "sv", "deepen", "mutate"):
        result = evolve(zh, op, seed=0)
        assert result.kept and all(check_exact(c) for c in result.kept), op
        assert all(c.meta["lang"] == "zh" for c in result.kept)


def test_unknown_operator_names_them_all(parents):
    with pytest.raises(ValueError, match="unknown evolution operator 'deeper'") as err:
        evolve(parents[:2], "deeper", seed=0)
    for op in OPERATORS:
        assert op in str(err.value)


def test_eliminations_are_marked_and_counted(parents, monkeypatch):
    two_step = next(p for p in parents if p.meta["steps"] >= 2)
    twice = [two_step, two_step]
    result = evolve(twice, "decompose", seed=0)
    assert [c.meta["eliminated_reason"] for c in result.children] == [None, "duplicate"]
    plain = Problem("x-1", "Tom has 3 apples and buys 4 more. How many now?", "7")
    assert evolve([plain], "mutate", seed=0).counts()["skipped_by"] == {"not_generated": 1}

    def broken(parent, seed, **kw):
        child = symbolic.decompose(parent, seed)[0]
        return [dataclasses.replace(child, solution=child.solution.replace("<<", "<<1+", 1))]

    monkeypatch.setitem(OPERATORS, "decompose", Operator(broken, "KwaiYiiMath", "depth", "x"))
    bad = evolve(parents[10:20], "decompose", seed=0)
    assert bad.counts()["not_exact"] == bad.counts()["children"] > 0
    assert all("does not recompute" in c.meta["eliminated_detail"] for c in bad.children)
    assert bad.kept == []


def test_check_exact_rejects_a_wrong_answer(parents):
    child = symbolic.deepen(parents[0], seed=0)[0]
    assert check_exact(child)
    assert not check_exact(dataclasses.replace(child, answer=child.answer + "1"))
    assert not check_exact(dataclasses.replace(child, meta={}))


def test_doctests():
    assert doctest.testmod(symbolic).failed == 0
