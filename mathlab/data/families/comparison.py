"""comparison: "3 more than", "twice as many", "half as many" between people or periods,
then maybe a total.
"""

from __future__ import annotations

from fractions import Fraction

from mathlab.data import lexicon as L
from mathlab.data.families._common import (
    FRACTION_WORDS_EN,
    FRACTION_WORDS_ZH,
    KW,
    T,
    cap,
    join_names,
    times_word,
)
from mathlab.data.program import Ctx, Q, Retry

# (noun tag, fact verb, question auxiliary, base verb, zh verb with 了, zh bare verb)
CMP_PEOPLE = [
    ("collect", "has", "does", "have", "有", ""),
    ("collect", "collected", "did", "collect", "收集了", "收集"),
    ("farm", "picked", "did", "pick", "摘了", "摘"),
    ("bake", "baked", "did", "bake", "烤了", "烤"),
    ("buy", "bought", "did", "buy", "买了", "买"),
    ("share", "has", "does", "have", "有", ""),
]
# (en subject, pronoun, zh subject, noun tag, en verb, en base verb, zh verb, zh bare)
CMP_BUSINESS = [
    ("the bakery", "it", "面包店", "bake", "sold", "sell", "卖出了", "卖出"),
    ("the farm stand", "it", "农场摊位", "farm", "sold", "sell", "卖出了", "卖出"),
    ("the toy store", "it", "玩具店", "store", "sold", "sell", "卖出了", "卖出"),
    ("the school store", "it", "学校小卖部", "school", "sold", "sell", "卖出了", "卖出"),
]
CMP_BASE_P = T(
    ["{A} {v} {x} {o.pl}.", "{A} {v} {x} {o.pl} last week.", "To start with, {A} {v} {x} {o.pl}."],
    ["{A}{vz}{x}{o.cl}{o.zh}。"],
)
CMP_REL_P = T(
    [
        "{B} {v} {head} {conn} {A}.",
        "{B} {v} {head} {conn} {A} {did}.",
        "{A}'s friend {B} {v} {head} {conn} {A}.",
        "Meanwhile, {B} {v} {head} {conn} {A}.",
    ],
    ["{zrel}"],
)
CMP_SAY_P = T(
    ["{B} {v} {calc} {o.pl}.", "So {B} {v} {calc} {o.pl}.", "That means {B} {v} {calc} {o.pl}."],
    ["{B}{vz}{calc}{o.cl}{o.zh}。", "所以{B}{vz}{calc}{o.cl}。"],
)
CMP_ASK1_P = T(
    [
        "How many {o.pl} {does} {Z} {vb}?",
        "Find the number of {o.pl} {Z} {v}.",
        "What is the number of {o.pl} {Z} {v}?",
    ],
    ["{Z}{vz0}多少{o.cl}{o.zh}？", "{Z}一共{vz0}几{o.cl}{o.zh}？"],
)
CMP_ASKT_P = T(
    [
        "How many {o.pl} {do} they {vb} altogether?",
        "How many {o.pl} {do} {names} {vb} in total?",
        "What is the total number of {o.pl} they {vt}?",
        "How many {o.pl} {do} the {kw} of them {vb} combined?",
        "In total, how many {o.pl} {do} they {vb}?",
    ],
    ["他们一共{vz0}多少{o.cl}{o.zh}？", "{names}总共{vz0}多少{o.cl}{o.zh}？"],
)
CMP_SAYT_P = T(
    [
        "Together they {vt} {calc} {o.pl}.",
        "Altogether, they {vt} {calc} {o.pl}.",
        "In total, that is {calc} {o.pl}.",
    ],
    ["他们一共{vz}{calc}{o.cl}。", "合起来一共是{calc}{o.cl}{o.zh}。"],
)
CMP_BASE_T = T(
    ["{At1}, {S} {v} {x} {o.pl}.", "{S} {v} {x} {o.pl} {at1}."],
    ["{S}{P1}{vz}{x}{o.cl}{o.zh}。", "{P1}，{S}{vz}{x}{o.cl}{o.zh}。"],
)
CMP_REL_T = T(
    [
        "{At2}, {s} {v} {head} {conn} {at1}.",
        "{S} {v} {head} {at2} {conn} {at1}.",
        "{At2}, {S} {v} {head} {conn} {at1}.",
    ],
    ["{zrel}"],
)
CMP_SAY_T = T(
    [
        "{At2}, {s} {v} {calc} {o.pl}.",
        "{S} {v} {calc} {o.pl} {at2}.",
        "So {at2}, {s} {v} {calc} {o.pl}.",
    ],
    ["{P2}{vz}{calc}{o.cl}。", "{S}{P2}{vz}{calc}{o.cl}{o.zh}。"],
)
CMP_ASK1_T = T(
    [
        "How many {o.pl} did {S} {vb} {atk}?",
        "How many {o.pl} were sold {atk}?",
        "What was the number of {o.pl} {S} {v} {atk}?",
    ],
    ["{S}{Pk}{vz0}多少{o.cl}{o.zh}？", "{Pk}{S}{vz0}几{o.cl}{o.zh}？"],
)
CMP_ASKT_T = T(
    [
        "How many {o.pl} did {S} {vb} in all?",
        "How many {o.pl} did {S} {vb} over these {kw} {unit}?",
        "What is the total number of {o.pl} {S} {v} {span}?",
        "In total, how many {o.pl} did {S} {vb} {span}?",
    ],
    ["{S}这几{zunit}一共{vz0}多少{o.cl}{o.zh}？", "{span}{S}总共{vz0}多少{o.cl}？"],
)
CMP_SAYT_T = T(
    [
        "Altogether, {s} {v} {calc} {o.pl}.",
        "In total, that is {calc} {o.pl}.",
        "Over the {kw} {unit}, {s} {v} {calc} {o.pl}.",
    ],
    ["一共{vz}{calc}{o.cl}。", "{S}总共{vz}{calc}{o.cl}{o.zh}。"],
)


def _relation(c: Ctx, value: Fraction, noun, allow_frac: bool = True):
    """Draw one relation to a known amount: (kind, number input, phrase head, connector)."""
    kinds = ["more", "more", "fewer", "times"] + (["frac"] * 2 if allow_frac else [])
    for _ in range(10):
        kind = c.choice(kinds)
        if kind == "frac":
            opts = [m for m in (2, 3, 4) if value % m == 0 and value // m >= 2]
            if not opts:
                continue
            m = c.choice(opts)
            q = c.hidden("ratio", m, "mult")
            return kind, q, m
        if kind == "times":
            if value * 2 > 400:
                continue
            m = c.choice([2, 2, 3, 4] if value <= 60 else [2])
            return kind, None, m
        if kind == "fewer":
            if value <= 4:
                continue
            k = c.randint(2, min(int(value) - 2, 20))
            return kind, c.num("fewer", k, "count"), k
        k = c.randint(2, 20)
        return kind, c.num("more", k, "count"), k
    raise Retry("no relation fits")


def _rel_phrase(c: Ctx, kind: str, q: Q | None, m: int, noun) -> tuple[str, str, str]:
    """(head, connector, expression op) for a relation; registers a times multiplier."""
    if kind == "more":
        head = f"{q} more {noun.pl}" if c.chance(0.75) else f"{q} more"
        return head, "than", f"+{q.v}"
    if kind == "fewer":
        return f"{q} fewer {noun.pl}", "than", f"-{q.v}"
    if kind == "times":
        var = f"times{len(c.inputs)}"
        word = times_word(c, var, m)
        return f"{word} as many {noun.pl}", "as", f"*{var}"
    return f"{FRACTION_WORDS_EN[(1, m)]} as many {noun.pl}", "as", f"/{q.v}"


def _zh_rel(c: Ctx, kind: str, q: Q | None, m: int, noun, subj: str, ref: str) -> tuple[str, str]:
    """(sentence, expression op) for a relation in Chinese; registers a times multiplier."""
    if kind == "times":
        var = f"times{len(c.inputs)}"
        return f"{subj}是{ref}的{c.num(var, m, 'mult', word=False)}倍。", f"*{var}"
    op = {"more": "+", "fewer": "-", "frac": "/"}[kind] + q.v
    if kind == "more":
        return f"{subj}比{ref}多{q}{noun.cl}。", op
    if kind == "fewer":
        return f"{subj}比{ref}少{q}{noun.cl}。", op
    return f"{subj}是{ref}的{FRACTION_WORDS_ZH[(1, m)]}。", op


def build(c: Ctx) -> None:
    s = c.target_steps
    total = s >= 2 and c.chance(0.5) or s == 6
    n_rel = s - 1 if total else s
    periods = c.chance(0.45)
    zh = c.lang == "zh"
    if periods:
        _comparison_periods(c, n_rel, total)
        return
    tag, v, aux, vb, vz, vzbare = c.choice(CMP_PEOPLE)
    noun = c.choice(L.nouns(tag))
    people = [c.person() for _ in range(n_rel + 1)]
    values: list[Q] = [c.num("base", c.randint(4, 60), "count")]
    vz0 = "有" if vzbare == "" else vzbare + "了"
    slots = dict(o=noun, v=v, vz=vz, vb=vb, vz0=vz0, did=aux if aux == "did" else "does")
    base_at = len(c.facts)
    c.fact("cb.", CMP_BASE_P, A=people[0], x=values[0], **slots)
    for i in range(1, n_rel + 1):
        ref = i - 1 if c.chance(0.75) or i == 1 else c.randint(0, i - 1)
        kind, q, m = _relation(c, c.v(values[ref]), noun)
        A, B = people[ref], people[i]
        if zh:
            subj = f"{B}的{noun.zh}" if vzbare == "" else f"{B}{vzbare}的{noun.zh}"
            zrel, op = _zh_rel(c, kind, q, m, noun, subj, str(A))
            c.fact("cr.", CMP_REL_P, zrel=zrel)
        else:
            head, conn, op = _rel_phrase(c, kind, q, m, noun)
            c.fact("cr.", CMP_REL_P, A=A, B=B, head=head, conn=conn, **slots)
        val, calc = c.calc("amount", f"{values[ref].v}{op}", "count")
        c.say("cs.", CMP_SAY_P, calc=calc, B=B, **slots)
        values.append(val)
    if c.chance(0.25) and not zh:  # "B has 40 more than A. If A has 140, how many ...?"
        base = c.facts.pop(base_at)
        c.facts.append(base)
        c.ifable = len(c.facts) - 1
    vt = "have" if v == "has" else v
    if total:
        _, calc = c.calc("total", "+".join(q.v for q in values), "count")
        c.say("cst.", CMP_SAYT_P, calc=calc, vt=vt, **slots)
        do = "do" if aux == "does" else "did"
        names = join_names(people, zh)
        c.ask("cqt.", CMP_ASKT_P, do=do, names=names, vt=vt, kw=KW[len(people)], **slots)
    else:
        c.ask("cq1.", CMP_ASK1_P, Z=people[-1], does=aux, **slots)


def _periods(c: Ctx, k: int) -> tuple[list[str], list[str], str, str, str]:
    """``k`` consecutive days, months or weeks: (en "on Monday"..., zh, unit, zh unit, span)."""
    kind = c.choice(["days", "months", "weeks"])
    if kind == "weeks":
        zp = [o + "周" for o in L.ORDINALS["zh"][:k]]
        at = [f"in the {o} week" for o in L.ORDINALS["en"][:k]]
        return at, zp, "weeks", "周", f"in those {KW[k]} weeks"
    names, prep, zunit = (L.WEEKDAYS, "on ", "天") if kind == "days" else (L.MONTHS, "in ", "个月")
    start = c.randint(0, len(names["en"]) - k)
    zp = names["zh"][start : start + k]
    at = [prep + d for d in names["en"][start : start + k]]
    span = f"from {at[0].split(' ', 1)[1]} to {at[-1].split(' ', 1)[1]}"
    return at, zp, kind, zunit, span


def _comparison_periods(c: Ctx, n_rel: int, total: bool) -> None:
    zh = c.lang == "zh"
    k = n_rel + 1
    if c.chance(0.5):
        subj_en, pron, subj_zh, tag, v, vb, vz, vzbare = c.choice(CMP_BUSINESS)
        S, s = (subj_zh, subj_zh) if zh else (subj_en, pron)
    else:
        p = c.person()
        tag, v, _, vb, vz, vzbare = c.choice([f for f in CMP_PEOPLE if f[1] != "has"])
        S, s = str(p), (p.ta if zh else p.he)
    noun = c.choice(L.nouns(tag))
    at, zp, unit, zunit, span_en = _periods(c, k)
    span = f"从{zp[0]}到{zp[-1]}" if zh else span_en
    vz0 = vzbare + "了" if vzbare else "有"
    slots = dict(
        o=noun, v=v, vb=vb, vz=vz, vz0=vz0, S=S, s=s, unit=unit, zunit=zunit, kw=KW[k], span=span
    )
    values = [c.num("base", c.randint(6, 80), "count")]
    c.fact("pb.", CMP_BASE_T, x=values[0], At1=cap(at[0]), at1=at[0], P1=zp[0], **slots)
    for i in range(1, k):
        kind, q, m = _relation(c, c.v(values[i - 1]), noun)
        if zh:
            subj = f"{zp[i]}{vzbare or '卖'}的"
            zrel, op = _zh_rel(c, kind, q, m, noun, subj, zp[i - 1])
            c.fact("pr.", CMP_REL_T, zrel=zrel)
        else:
            head, conn, op = _rel_phrase(c, kind, q, m, noun)
            at2 = dict(At2=cap(at[i]), at2=at[i], at1=at[i - 1])
            c.fact("pr.", CMP_REL_T, head=head, conn=conn, **at2, **slots)
        val, calc = c.calc("amount", f"{values[i - 1].v}{op}", "count")
        c.say("ps.", CMP_SAY_T, calc=calc, At2=cap(at[i]), at2=at[i], P2=zp[i], **slots)
        values.append(val)
    if total:
        _, calc = c.calc("total", "+".join(q.v for q in values), "count")
        c.say("pst.", CMP_SAYT_T, calc=calc, **slots)
        c.ask("pqt.", CMP_ASKT_T, **slots)
    else:
        ask = CMP_ASK1_T if v == "sold" else T(CMP_ASK1_T["en"][::2], CMP_ASK1_T["zh"])
        c.ask("pq1.", ask, atk=at[-1], Pk=zp[-1], **slots)
