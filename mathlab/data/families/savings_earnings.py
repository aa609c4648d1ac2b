"""savings_earnings: wages by the hour or day, days a week, tips, spending, repeats, goals."""

from __future__ import annotations

from fractions import Fraction

from mathlab.data.families._common import Link, T, intro, last_of, plan, pronouns, stage
from mathlab.data.program import Ctx, Q, Retry

JOBS = [
    ("babysitting", "照看小孩"),
    ("mowing lawns", "修剪草坪"),
    ("walking dogs", "遛狗"),
    ("tutoring", "做家教"),
    ("washing cars", "洗车"),
    ("working at a cafe", "在咖啡店打工"),
    ("delivering newspapers", "送报纸"),
]
# (en, zh, lowest price, highest price) in dollars
GOALS = [
    ("a pair of skates", "一双溜冰鞋", 40, 200),
    ("a guitar", "一把吉他", 100, 600),
    ("a new bike", "一辆新自行车", 150, 900),
    ("a video game console", "一台游戏机", 250, 600),
    ("a tablet", "一台平板电脑", 200, 1000),
    ("a camera", "一台相机", 300, 1500),
    ("a laptop", "一台笔记本电脑", 500, 2500),
    ("a used car", "一辆二手车", 2000, 20000),
    ("a trip abroad", "一次出国旅行", 1000, 8000),
]


def _goal_item(c: Ctx, price: Fraction) -> tuple[str, str]:
    fits = [(en, zh) for en, zh, lo, hi in GOALS if lo <= price <= hi]
    if not fits:
        raise Retry("no goal item at this price")
    return c.choice(fits)


SPEND_ON = [("lunch", "午饭"), ("bus fare", "车费"), ("snacks", "零食"), ("movies", "看电影")]
SE_WAGE = T(
    [
        "{p} earns {h} an hour {job}. {He} works {t} hours a day.",
        "{p} makes {h} per hour {job} and works {t} hours each day.",
        "{p} gets paid {h} an hour for {job}, and {he} works {t} hours a day.",
    ],
    ["{p}{jobz}每小时挣{h}，每天工作{t}小时。", "{p}每天{jobz}{t}小时，每小时{h}。"],
)
SE_WAGE_SAY = T(
    ["{He} earns {calc} a day.", "Each day {he} makes {calc}.", "In one day, {p} earns {calc}."],
    ["{p.ta}每天挣{calc}。", "一天能挣{calc}。"],
)
SE_WAGE_ASK = T(
    ["How much does {p} earn in a day?", "How much money does {p} make each day?"],
    ["{p}每天挣多少钱？", "{p}一天能挣多少元？"],
)
SE_DAILY = T(
    ["{p} earns {D} a day {job}.", "{p} makes {D} each day from {job}."],
    ["{p}{jobz}每天挣{D}。", "{p}每天{jobz}能挣{D}。"],
)
SE_DAYS = T(
    ["{He} works {d} days a week.", "{p} works {d} days every week."],
    ["{p.ta}每周工作{d}天。", "{p}一周干{d}天。"],
)
SE_DAYS_SAY = T(
    ["{He} earns {calc} a week.", "In a week, that is {calc}."],
    ["{p.ta}每周挣{calc}。", "一周能挣{calc}。"],
)
SE_DAYS_ASK = T(
    ["How much does {p} earn in a week?", "What are {p}'s weekly earnings?"],
    ["{p}每周挣多少钱？", "{p}一周能挣多少元？"],
)
SE_BONUS = T(
    [
        "{He} also gets {b} in tips every {per}.",
        "On top of that, {he} receives a {b} bonus each {per}.",
    ],
    ["{p.ta}每{perz}还能拿到{b}小费。", "另外{p.ta}每{perz}有{b}奖金。"],
)
SE_BONUS_SAY = T(
    ["With the extra money, {he} makes {calc} a {per}.", "So {he} gets {calc} each {per}."],
    ["加上这笔钱，每{perz}一共{calc}。", "所以每{perz}能拿到{calc}。"],
)
SE_BONUS_ASK = T(
    ["How much does {p} make each {per} in total?", "How much money does {p} get every {per}?"],
    ["{p}每{perz}一共能拿到多少钱？", "{p}每{perz}总共收入多少元？"],
)
SE_SPEND = T(
    [
        "{He} spends {s} of it each {per} on {thing}.",
        "Every {per}, {p} spends {s} on {thing} and saves the rest.",
    ],
    ["{p.ta}每{perz}要花{s}在{thingz}上。", "每{perz}{p}花掉{s}买{thingz}，其余的存起来。"],
)
SE_SPEND_SAY = T(
    ["{He} saves {calc} each {per}.", "That leaves {calc} to save every {per}."],
    ["每{perz}能存{calc}。", "{p.ta}每{perz}存下{calc}。"],
)
SE_SPEND_ASK = T(
    ["How much does {p} save each {per}?", "How much money does {p} put away every {per}?"],
    ["{p}每{perz}能存多少钱？", "{p}每{perz}存下多少元？"],
)
SE_REPEAT = T(
    ["{He} does this for {n} {per}s.", "{p} keeps this up for {n} {per}s."],
    ["{p.ta}这样坚持了{n}{perz2}。", "{p}一共这样干了{n}{perz2}。"],
)
SE_REPEAT_SAY = T(
    ["After {n} {per}s, {he} has {calc}.", "Over {n} {per}s, that adds up to {calc}."],
    ["{n}{perz2}一共{calc}。", "总共有{calc}。"],
)
SE_REPEAT_ASK = T(
    [
        "How much money does {p} have at the end?",
        "How much does {p} {earn} in all?",
        "How much money does {p} {earn} over that time?",
    ],
    ["最后{p}一共有多少钱？", "{p}总共{earnz}了多少元？"],
)
SE_GOAL = T(
    ["{He} wants to buy {item} that costs {G}.", "{p} is saving up for {item}, which costs {G}."],
    ["{p.ta}想买{itemz}，价格是{G}。", "{p}在攒钱买{itemz}，售价{G}。"],
)
SE_GOAL_SAY = T(
    ["{He} still needs {calc}.", "{p} is {calc} short."], ["还差{calc}。", "{p.ta}还需要{calc}。"]
)
SE_GOAL_ASK = T(
    ["How much more money does {p} need?", "How much more does {he} have to save to buy it?"],
    ["{p}还差多少钱？", "{p.ta}还需要攒多少元？"],
)
SE_WEEKS_SAY = T(
    ["{He} needs {calc} {per}s.", "It takes {calc} {per}s."],
    ["需要{calc}{perz2}。", "{p.ta}要攒{calc}{perz2}。"],
)
SE_WEEKS_ASK = T(
    [
        "How many {per}s will it take {p} to save enough?",
        "How many {per}s does {p} need to work to afford it?",
    ],
    ["{p}需要多少{perz2}才能攒够？", "要攒几{perz2}才够？"],
)


STAGES = "wage days bonus spend repeat goal goal_n"
WAGES = [8, 9, 10, 11, 12, 12.5, 14, 15, 16, 18, 20, 7.5]

# Link(role, fact, say, step var, step expr, step kind, given var, given kind, template slot)
DAYS = Link("dy.", SE_DAYS, SE_DAYS_SAY, "weekly", "{cur}*{q}", "money", "days", "count", "d")
BONUS = Link("bn.", SE_BONUS, SE_BONUS_SAY, "with_tips", "{cur}+{q}", "money", "tips", "money", "b")
SPEND = Link("sp.", SE_SPEND, SE_SPEND_SAY, "saved", "{cur}-{q}", "money", "spent", "money", "s")
REPEAT = Link(
    "rp.", SE_REPEAT, SE_REPEAT_SAY, "total", "{cur}*{q}", "money", "periods", "count", "n"
)


def _valid(s: frozenset) -> bool:
    """One goal at most; the periods a goal takes are not asked after repeating."""
    return not {"goal", "goal_n"} <= s and not ("goal_n" in s and "repeat" in s)


def build(c: Ctx) -> None:
    chosen = plan(c, STAGES, _valid)
    p = c.person()
    job, jobz = c.choice(JOBS)
    slots = pronouns(p, job=job, jobz=jobz, per="day", perz="天", perz2="天")
    intro(c, "saving", p, 0.25)
    c.answer_kind = "money"
    last = last_of(chosen, ["wage", "days", "bonus", "spend", "repeat", "goal", "goal_n"])
    if "wage" in chosen:
        h = c.num("hourly", c.choice(WAGES), "money")
        t = c.num("hours", c.randint(2, 8), "hours")
        cur = stage(
            c, "wg.", SE_WAGE, SE_WAGE_SAY, "daily", f"{h.v}*{t.v}", "money", h=h, t=t, **slots
        )
        ask = SE_WAGE_ASK
    else:
        cur = c.num("daily", c.choice(range(20, 161, 5)), "money")
        c.fact("dl.", SE_DAILY, D=cur, **slots)
        ask = None
    if "days" in chosen:
        cur = DAYS(c, cur, c.randint(2, 6), last == "days", **slots)
        ask = SE_DAYS_ASK
        slots.update(per="week", perz="周", perz2="周")
    if "bonus" in chosen:
        cur = BONUS(c, cur, c.choice(range(5, 55, 5)), last == "bonus", **slots)
        ask = SE_BONUS_ASK
    if "spend" in chosen:
        thing, thingz = c.choice(SPEND_ON)
        hi = int(c.v(cur) * Fraction(2, 3))
        if hi < 5:
            raise Retry("too little to spend")
        spent = c.randint(2, min(hi, 100))
        cur = SPEND(c, cur, spent, last == "spend", thing=thing, thingz=thingz, **slots)
        ask = SE_SPEND_ASK
    earn, earnz = ("save", "存") if "spend" in chosen else ("earn", "挣")
    if "repeat" in chosen:
        cur = REPEAT(c, cur, c.randint(2, 10), last == "repeat", **slots)
        ask = SE_REPEAT_ASK
    if {"goal", "goal_n"} & chosen:
        ask = _goal(c, cur, "goal_n" in chosen, slots)
    c.ask("q.", ask, earn=earn, earnz=earnz, **slots)


def _goal(c: Ctx, cur: Q, periods: bool, slots: dict) -> dict:
    """Something to save up for: the money still needed or (``periods``) how many periods
    of ``cur`` it takes; the question template."""
    if periods:
        G = c.num("goal", c.v(cur) * c.randint(2, 12), "money")
    else:
        G = c.num("goal", int(c.v(cur)) + c.randint(5, 300), "money")
    item, itemz = _goal_item(c, c.v(G))
    goal = dict(slots, G=G, item=item, itemz=itemz)
    if not periods:
        stage(c, "gl.", SE_GOAL, SE_GOAL_SAY, "needed", f"{G.v}-{cur.v}", "money", True, **goal)
        return SE_GOAL_ASK
    expr = f"{G.v}/{cur.v}"
    stage(c, "gn.", SE_GOAL, SE_WEEKS_SAY, "periods_needed", expr, "count", True, **goal)
    c.answer_kind = "count"
    return SE_WEEKS_ASK
