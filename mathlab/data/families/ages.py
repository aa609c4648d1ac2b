"""ages: "B is 3 years older than A", "twice as old", then years ahead, years ago or a sum."""

from __future__ import annotations

from fractions import Fraction

from mathlab.data.families._common import (
    FRACTION_WORDS_EN,
    FRACTION_WORDS_ZH,
    T,
    join_names,
    times_word,
)
from mathlab.data.program import Ctx, Q, Retry

AGE_BASE = T(
    ["{A} is {a} years old.", "{A} just turned {a}.", "{A}'s age is {a}.", "{A} is {a}."],
    ["{A}今年{a}岁。", "{A}现在{a}岁。"],
)
AGE_SAY = T(
    [
        "{B} is {calc} years old.",
        "So {B} is {calc}.",
        "{B}'s age is {calc} years.",
        "That makes {B} {calc} years old.",
    ],
    ["{B}今年{calc}岁。", "所以{B}{calc}岁。"],
)
AGE_ASK = T(
    ["How old is {Z}?", "What is {Z}'s age?", "How many years old is {Z}?"],
    ["{Z}今年多少岁？", "{Z}现在几岁？"],
)
AGE_FUT_ASK = T(
    [
        "How old will {Z} be in {n} years?",
        "In {n} years, how old will {Z} be?",
        "What will {Z}'s age be {n} years from now?",
    ],
    ["{n}年后{Z}多少岁？", "再过{n}年，{Z}几岁？"],
)
AGE_FUT_SAY = T(
    [
        "In {n} years, {Z} will be {calc} years old.",
        "{Z} will be {calc} then.",
        "{n} years from now, {Z} will be {calc}.",
    ],
    ["{n}年后{Z}{calc}岁。", "再过{n}年，{Z}就{calc}岁了。"],
)
AGE_PAST_ASK = T(
    [
        "How old was {Z} {n} years ago?",
        "What was {Z}'s age {n} years ago?",
        "{n} years ago, how old was {Z}?",
    ],
    ["{n}年前{Z}多少岁？", "{Z}{n}年前几岁？"],
)
AGE_PAST_SAY = T(
    ["{n} years ago, {Z} was {calc} years old.", "So {Z} was {calc} back then."],
    ["{n}年前{Z}{calc}岁。", "所以{Z}那时{calc}岁。"],
)
AGE_SUM_ASK = T(
    [
        "What is the sum of their ages?",
        "How old are they combined?",
        "What is the total of {names}'s ages?",
        "If you add up all their ages, what do you get?",
    ],
    ["他们的年龄一共是多少岁？", "{names}的年龄加起来是多少岁？"],
)
AGE_SUM_SAY = T(
    [
        "Together they are {calc} years old.",
        "The sum of their ages is {calc}.",
        "Their ages add up to {calc} years.",
    ],
    ["他们的年龄之和是{calc}岁。", "加起来一共{calc}岁。"],
)
KIN = {
    True: ["sister", "cousin", "friend", "neighbor", "aunt", "classmate"],
    False: ["brother", "cousin", "friend", "neighbor", "uncle", "classmate"],
}


AGE_OLDER = T(
    [
        "{B} is {k} years older than {A}.",
        "{A} is {k} years younger than {B}.",
        "{B} is {k} years older than {A} is.",
    ],
    ["{B}比{A}大{k}岁。", "{A}比{B}小{k}岁。"],
)
AGE_YOUNGER = T(
    [
        "{B} is {k} years younger than {A}.",
        "{A} is {k} years older than {B}.",
        "{B} is {k} years younger than {A} is.",
    ],
    ["{B}比{A}小{k}岁。", "{A}比{B}大{k}岁。"],
)


def build(c: Ctx) -> None:
    s = c.target_steps
    end = (
        c.choice(["none", "future", "past", "sum"])
        if s >= 2
        else c.choice(["none", "none", "future"])
    )
    n_rel = s - (end != "none")
    if n_rel < 1:
        n_rel, end = 1, "none"
    zh = c.lang == "zh"
    people = [c.person() for _ in range(n_rel + 1)]
    values = [c.num("age", c.randint(4, 40), "age")]
    c.fact("ab.", AGE_BASE, A=people[0], a=values[0])
    for i in range(1, n_rel + 1):
        ref = i - 1 if c.chance(0.8) or i == 1 else c.randint(0, i - 1)
        A, B = people[ref], people[i]
        k, op, opts, zopts = _relation(c, c.v(values[ref]), zh)
        if not zh and c.chance(0.35) and i == 1:
            kin = c.choice(KIN[B.female])
            opts = [
                o.replace("{B}", f"{A.poss} {kin} {{B}}", 1) if o.startswith("{B}") else o
                for o in opts
            ]
        c.fact("ar.", T(opts, zopts), A=A, B=B, k=k)
        val, calc = c.calc("age", f"{values[ref].v}{op}", "age")
        if not 2 <= c.v(val) <= 100:
            raise Retry("implausible age")
        c.say("as.", AGE_SAY, calc=calc, B=B)
        values.append(val)
    _ask(c, end, values, people)
    c.answer_kind = "age"


def _relation(c: Ctx, av: Fraction, zh: bool) -> tuple[Q | None, str, list[str], list[str]]:
    """One age relation to a known age ``av``: (its number, expression op, en and zh templates)."""
    kinds = (
        ["older", "younger"]
        + (["times"] if av <= 30 else [])
        + (["frac"] if av % 2 == 0 and av >= 8 else [])
    )
    kind = c.choice(kinds)
    if kind == "older":
        k = c.num("diff", c.randint(2, min(30, 95 - int(av))), "age")
        return k, f"+{k.v}", AGE_OLDER["en"], AGE_OLDER["zh"]
    if kind == "younger":
        if av <= 5:
            raise Retry("too young to have a younger relative")
        k = c.num("diff", c.randint(2, min(int(av) - 3, 25)), "age")
        return k, f"-{k.v}", AGE_YOUNGER["en"], AGE_YOUNGER["zh"]
    if kind == "times":
        m = c.choice([2, 3] if av > 15 else [2, 3, 4])
        var = f"times{len(c.inputs)}"
        if zh:
            k = c.num(var, m, "mult", word=False)
            return k, f"*{var}", [], ["{B}的年龄是{A}的{k}倍。", "{B}的岁数是{A}的{k}倍。"]
        tw = times_word(c, var, m)
        opts = [f"{{B}} is {tw} as old as {{A}}.", f"{{B}}'s age is {tw} {{A}}'s age."]
        return None, f"*{var}", opts, []
    m = c.choice([d for d in (2, 3, 4) if av % d == 0 and av // d >= 2])
    k = c.hidden("ratio", m, "mult")
    if m == 2:
        opts = ["{B} is half as old as {A}.", "{B}'s age is half of {A}'s."]
    else:
        w = FRACTION_WORDS_EN[(1, m)] + " of"
        opts = [f"{{B}} is {w} {{A}}'s age.", f"{{B}}'s age is {w} {{A}}'s."]
    return k, f"/{k.v}", opts, [f"{{B}}的年龄是{{A}}的{FRACTION_WORDS_ZH[(1, m)]}。"]


def _ask(c: Ctx, end: str, values: list[Q], people: list) -> None:
    """The question about the last person: now, in or ago ``n`` years, or everyone's sum."""
    Z = people[-1]
    if end == "future":
        n = c.num("years", c.randint(2, 20), "age")
        _, calc = c.calc("future_age", f"{values[-1].v}+{n.v}", "age")
        c.say("fs.", AGE_FUT_SAY, calc=calc, Z=Z, n=n)
        c.ask("fq.", AGE_FUT_ASK, Z=Z, n=n)
    elif end == "past":
        if c.v(values[-1]) < 5:
            raise Retry("too young for years ago")
        n = c.num("years", c.randint(2, min(int(c.v(values[-1])) - 2, 15)), "age")
        _, calc = c.calc("past_age", f"{values[-1].v}-{n.v}", "age")
        c.say("ps.", AGE_PAST_SAY, calc=calc, Z=Z, n=n)
        c.ask("pq.", AGE_PAST_ASK, Z=Z, n=n)
    elif end == "sum":
        _, calc = c.calc("sum_ages", "+".join(q.v for q in values), "age")
        c.say("ss.", AGE_SUM_SAY, calc=calc)
        c.ask("sq.", AGE_SUM_ASK, names=join_names(people, c.lang == "zh"))
    else:
        c.ask("q.", AGE_ASK, Z=Z)
