"""Words for two symbolic operators: sub-questions (``decompose``) and answer statements (``sv``).

:func:`sub_question` asks for one intermediate quantity of a generated problem, from the
base name of its program variable (:data:`SUB_QUESTIONS`, written for every intermediate
variable the families use) and a few words read off that step's solution line (a person,
the thing counted, a unit): ``age`` in ``Nia is 6+14=<<6+14=20>>20 years old.`` ->
``How old is Nia?``. A variable without an entry, or a template whose words are not in the
line, falls back to ``What is the result of step k?``.

:func:`statement` turns an English question into the sentence that states its answer
(``How much does Oscar pay?`` + ``$58.50`` -> ``Oscar pays $58.50.``) for MetaMath's
self-verification questions; a question none of its rules reads is stated as
``The answer to "..." is N.``
"""

from __future__ import annotations

import re
from collections import defaultdict

from mathlab.data import lexicon

__all__ = ["SUB_QUESTIONS", "past", "statement", "sub_question", "third_person"]

# Templates by variable base name (``base:kind`` first); the second of a pair is used when
# the same template would ask twice in one problem ({nth} is then "first ", "second ", ...).
SUB_QUESTIONS: dict[str, tuple[str, ...]] = {
    "age": ("How old is {name}?",),
    "future_age": ("How old will {name} be then?",),
    "past_age": ("How old was {name} then?",),
    "sum_ages": ("What is the sum of their ages?",),
    "all_fence": ("How many {noun} of fencing are needed for all of them?",),
    "area": ("What is the area of the {thing}, in {noun}?", "What is the {nth}area, in {noun}?"),
    "fence": ("How many {noun} of fencing are needed?",),
    "length": ("How long is the {thing}, in {noun}?", "What is the {nth}length, in {noun}?"),
    "obstacle": ("How many {noun} does the {thing} cover?",),
    "open_area": ("How many {noun} are left open?",),
    "perimeter": ("What is the perimeter, in {noun}?",),
    "total_area": ("What is the total area, in {noun}?",),
    "change": ("How much is the change?",),
    "cost:money": ("How much do the {items} cost?", "What is the {nth}cost?"),
    "kept": ("How much money is kept?",),
    "left:money": ("How much money is left?",),
    "left:count": ("How many {noun} are left?",),
    "left:minutes": ("How many minutes are left?",),
    "total:money": ("What is the total cost?", "What is the {nth}total?"),
    "total:count": ("How many {noun} are there in all?",),
    "total:length": ("What is the total distance, in {noun}?",),
    "amount": (
        "How many {noun} did {name} {verb}{tail}?",
        "How many {noun} does {name} have{tail}?",
        "How many {noun} were {pp}{tail}?",
    ),
    "part": ("What is {lhs}?", "How many {noun} are in that part?"),
    "discount": ("How much is the discount?",),
    "final": ("What is the price with tax?",),
    "full": ("What is the full price?",),
    "sale_price": ("What is the sale price?",),
    "tax": ("How much is the tax?",),
    "distance": (
        "How many {noun} are covered on that part of the trip?",
        "How many {noun} are covered on the {nth}part of the trip?",
    ),
    "remaining": ("How many {noun} are left to travel?",),
    "speed": ("What is the speed, in {noun} per hour?",),
    "daily:money": ("How much is earned in one day?",),
    "weekly:money": ("How much is earned in a week?",),
    "saved": ("How much is saved each {period}?",),
    "with_tips": ("How much is earned each {period} with the extra money?",),
    "total:money:savings_earnings": ("How much is there after {span}?",),
    "each": ("How many {noun} does each {who} get?",),
    "left_each": ("How many {noun} does each {who} have left?",),
    "now": ("How many {noun} are there now?",),
    "to_share": ("How many {noun} are left to share?",),
    "after_coupon": ("What is the cost after the coupon?",),
    "spent_weeks": ("How much is spent over those weeks?",),
    "with_fee": ("What is the total with the fee?",),
    "all_minutes": ("How many minutes is that over those weeks?",),
    "daily:minutes": ("How many minutes do the two activities take together?",),
    "hours": ("How many hours is that?",),
    "minutes": ("How many minutes long is it?",),
    "weekly:minutes": ("How many minutes is that each week?",),
    "weekly_total": ("What is the weekly total, in minutes?",),
    "unit": ("What is the price per {sg}?",),
    "unit_a": ("What is the price per {sg} at the {store}?",),
    "unit_b": ("What is the price per {sg} at the {store}?",),
    "diff": ("What is the difference in price per {sg}?",),
    "done": ("How many {noun} are {pp} in that time?", "How many {noun} get done in that time?"),
    "done_days": (
        "How many {noun} are {pp} over those days?",
        "How many {noun} get done over those days?",
    ),
    "new_rate": ("What is the new rate, in {noun} per hour?",),
    "rate": ("How many {noun} are {pp} every hour?", "How many {noun} get done every hour?"),
}
FALLBACK = "What is the result of step {k}?"
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
_STOP = set(
    "left in on to for per each every a an get got are is were was still from at the that "
    "this with more go went will long wide".split()
)
_EN_NAMES = {n: female for n, female in lexicon.names("en")}
_NAME = re.compile(r"\b(" + "|".join(sorted(_EN_NAMES, key=len, reverse=True)) + r")\b")
# fmt: off
_IRREGULAR = {
    "buy": "bought", "get": "got", "give": "gave", "sell": "sold", "make": "made", "have": "had",
    "go": "went", "eat": "ate", "find": "found", "take": "took", "spend": "spent", "pay": "paid",
    "put": "put", "read": "read", "ride": "rode", "drive": "drove", "lay": "laid", "fly": "flew",
    "swim": "swam", "run": "ran", "keep": "kept", "leave": "left", "do": "did", "sit": "sat",
    "hold": "held", "win": "won", "bring": "brought", "catch": "caught", "cut": "cut",
}
_BASE = {v: k for k, v in _IRREGULAR.items()}
_PARTICIPLES = {"eat": "eaten", "give": "given", "take": "taken", "go": "gone", "ride": "ridden"}
_TASKS = {
    "pick": "picked", "stuff": "stuffed", "fold": "folded", "plant": "planted",
    "assembl": "assembled", "pack": "packed", "lai": "laid", "lay": "laid", "bak": "baked",
}
# fmt: on
# Regular verbs whose base form ends in a silent e (``baked`` -> ``bake``, not ``bak``).
_E_STEMS = set(
    "bak us donat shar sav stor danc mak serv tak rak hik rid driv scor plac trad".split()
)


def past(verb: str) -> str:
    """``bake`` -> ``baked``, ``buy`` -> ``bought``, ``carry`` -> ``carried``, ``jog`` -> ``jogged``.

    >>> [past(v) for v in ("jog", "walk", "open", "shop", "visit", "sail")]
    ['jogged', 'walked', 'opened', 'shopped', 'visited', 'sailed']
    """
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("e"):
        return verb + "d"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ied"
    if re.search(r"[^aeiou][aeiou][bdgklmnprt]$", verb) and len(re.findall(r"[aeiou]+", verb)) == 1:
        return verb + verb[-1] + "ed"  # one syllable, consonant-vowel-consonant: jog -> jogged
    return verb + "ed"


def third_person(verb: str) -> str:
    """``pay`` -> ``pays``, ``have`` -> ``has``, ``finish`` -> ``finishes``."""
    if verb == "have":
        return "has"
    if re.search(r"(?:s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


def _base(verb: str) -> str | None:
    """The base form of a past or present verb (``baked`` -> ``bake``), or None."""
    if verb in _BASE:
        return _BASE[verb]
    if verb in ("has", "have"):
        return "have"
    m = re.fullmatch(r"([a-z]+?)(ied|ed)", verb)
    if not m:
        return None
    stem = m.group(1)
    if m.group(2) == "ied":
        return stem + "y"
    return stem + "e" if stem in _E_STEMS else stem


# ------------------------------------------------------------------------- sub-questions
def _line_slots(line: str) -> dict[str, str]:
    """The words a sub-question may use, read off one solution line."""
    plain = re.sub(r"\(?[\d.]+(?: ?[-+x*/] ?[\d.()]+)+ ?= ?\$?<<[^>]*>>[\d.]+", "N", line)
    slots: dict[str, str] = {}
    m = re.search(r"\bN ((?:[a-zA-Z'-]+ ?)+)", plain)
    if m:
        words = []
        for w in m.group(1).split():
            if w.lower() in _STOP:
                break
            words.append(w.strip(".,"))
        if words:
            slots["noun"] = re.sub(r" of fencing$", "", " ".join(words))
    name = _NAME.search(plain)
    if name:
        slots["name"] = name.group(1)
        after = re.match(r" (\w+) N", plain[name.end() :])
        if after and (base := _base(after.group(1))):
            key = "has" if base == "have" else "verb"
            slots[key] = base
    tail = re.search(r"\bN [a-z ]+?( (?:on \w+day|in the \w+ week|in [A-Z]\w+))\.", plain)
    lead = re.match(r"(In|On) ([A-Z]\w+|the \w+ week),", plain)
    slots["tail"] = tail.group(1) if tail else f" {lead[1].lower()} {lead[2]}" if lead else ""
    pp = re.search(r"\b(\w+) N", plain)
    if pp and (base := _base(pp.group(1))) and base != "have":
        slots["pp"] = _PARTICIPLES.get(base, past(base))
    task = re.search(r"\b(pick|stuff|fold|plant|assembl|pack|la[iy]|bak)", plain)
    if task and "pp" not in slots:
        slots["pp"] = _TASKS[task.group(1)]
    for key, pattern in (
        ("thing", r"[Tt]he (?:area of the )?([a-z ]+?) (?:covers|is|takes up) N"),
        (
            "items",
            r"(?:N|\d+|[Tt]he) ([a-z]+(?: [a-z]+)*?) cost\b|\bon ([a-z ]+?)\.|[Ff]or the ([a-z ]+?),",
        ),
        ("lhs", r"^([\w/%]+(?: \w+)? of \S+) is N"),
        ("period", r"\b(?:each|every|a) (day|week)\b"),
        ("span", r"(?:Over|After|In|For) (\d+ (?:days|weeks))"),
        ("who", r"\b(?:[Ee]ach|[Ee]very|per) (?:of the )?([a-z]+?)s?\b(?! N)"),
        ("sg", r"(?:[Oo]ne|[Ee]ach|per|single) ([a-z]+(?: [a-z]+)*?)(?= costs| is| at|[.,])"),
        ("store", r"[Aa]t the ([a-z' ]+?)(?:,| is| costs|\.)"),
    ):
        m = re.search(pattern, plain)
        if m:
            slots[key] = next(g for g in m.groups() if g)
    return slots


def _templates(var: str, kind: str, family: str) -> tuple[str, ...]:
    base = re.sub(r"\d+$", "", var)
    for key in (f"{base}:{kind}:{family}", f"{base}:{kind}", base):
        if key in SUB_QUESTIONS:
            return SUB_QUESTIONS[key]
    return ()


def sub_question(var: str, kind: str, family: str, line: str, k: int, nth: int = 0) -> str:
    """The sub-question asking for step ``k``'s quantity ``var`` (``nth`` > 0: the nth of
    several steps that would ask the same)."""
    slots = _line_slots(line)
    slots["nth"] = f"{_ORDINALS[nth - 1]} " if nth else ""
    templates = _templates(var, kind, family)
    if nth and len(templates) > 1:
        templates = templates[1:]
    for template in templates:
        try:
            return template.format(**slots)
        except KeyError:
            continue
    return FALLBACK.format(k=k)


def sub_questions(program: dict, family: str, lines: list[str]) -> list[str]:
    """One sub-question per intermediate step (every step but the last); a question that
    would repeat is asked with ordinals, or else falls back to ``result of step k``."""
    steps = program["steps"][:-1]
    kinds = program["kinds"]
    first = [
        sub_question(s["var"], kinds[s["var"]], family, lines[i], i + 1)
        for i, s in enumerate(steps)
    ]
    out = []
    for i, (step, q) in enumerate(zip(steps, first, strict=True)):
        same = [j for j, other in enumerate(first) if other == q]
        nth = same.index(i) + 1
        if len(same) > 1:
            q = sub_question(step["var"], kinds[step["var"]], family, lines[i], i + 1, nth)
        if q == first[i] and nth > 1:
            q = q[:-1] + " after that?" if nth == 2 else FALLBACK.format(k=i + 1)
        out.append(q)
    return out


# ------------------------------------------------------------------------- statements
_SUBJ = (
    r"(?P<s>(?:[A-Z][a-z]+, )*[A-Z][a-z]+ and [A-Z][a-z]+|[A-Z][a-z]+|he|she|they|it|everything|each of the [a-z]+"
    r"|(?:the|each|every|one) [a-z' ]+?)"
)
_OBJ = r"(?P<obj> (?:her|him|them|it|me|us))?"
_VERB = r"(?P<adv> still| also| actually)? (?!(?:of|in|on|at|to|for|with|from|by|and|the|a|an)\b)(?P<v>[a-z]+)"
_PARTICLE = r"(?P<part> up \w+ing| up| back| away)?"
# What may follow the verb: nothing, or a phrase that starts like one (so that the subject
# ends where the verb begins: "did the toy store sell over ...").
_REST = (
    r"(?P<rest>(?:,.*| (?:in|on|over|during|for|to|from|at|with|after|by|altogether|still|"
    r"each|every|now|left|more|that|this|all|the|them|it|her|him|doing|working|reading|"
    r"playing|practicing|studying|walking|jogging|swimming)\b.*)?)"
)


def _conjugate(aux: str, verb: str) -> str:
    return {"did": past(verb), "does": third_person(verb), "do": verb}.get(aux, f"{aux} {verb}")


def _state_how_many(g: dict[str, str], ans: str, unit: str) -> str:
    noun = "" if ans.startswith("$") and g["noun"] == "dollars" else f" {g['noun']}"
    return f"{g['s']}{g['adv']} {_conjugate(g['aux'], g['v'])}{g['part']} {ans}{noun}{g['rest']}."


def _state_how_much(g: dict[str, str], ans: str, unit: str) -> str:
    more = " more" if "more" in g["what"] else ""
    change = " in change" if "change" in g["what"] else ""
    head = f"{g['s']}{g['adv']} {_conjugate(g['aux'], g['v'])}{g['part']}{g['obj']}"
    return f"{head} {ans}{unit}{more}{change}{g['rest']}."


def _state_what(g: dict[str, str], ans: str, unit: str) -> str:
    np = g["np"]
    u = re.search(r", in ([a-z ]+)$", np)
    if u:
        np = np[: u.start()]
        unit = "" if u.group(1) == "dollars" else f" {u.group(1)}"
    return f"{_cap(np)} {g['be']} {ans}{unit}."


def _state_how_long(g: dict[str, str], ans: str, unit: str) -> str:
    return f"{g['s']} {_conjugate(g['aux'], 'take')}{g['obj']} {ans}{unit}{g['rest']}."


# (pattern, statement): the pattern must fullmatch the question; the statement is a format
# string over its groups, ``ans`` and ``unit`` (" hours" for an answer in hours), or a
# function of (groups, ans, unit); a group the pattern lacks reads as "".
# fmt: off
_RULES = (
    (r"How old is (?P<s>.+)\?", "{s} is {ans} years old."),
    (r"How many years old is (?P<s>.+)\?", "{s} is {ans} years old."),
    (r"How old will (?P<s>.+?) be(?P<t> .+)?\?", "{s} will be {ans} years old{t}."),
    (r"How old was (?P<s>.+?)(?P<t> .+)?\?", "{s} was {ans} years old{t}."),
    (r"How old are they combined\?", "Combined, they are {ans} years old."),
    (r"What do you get\?", "You get {ans}."),
    (r"What will (?P<np>.+?) be (?P<t>.+)\?", "{T}, {np} will be {ans}."),
    (r"What (?P<be>is|was|are|were) (?P<np>.+?)\?", _state_what),
    (r"How much (?P<be>is|was) (?P<np>(?!left).+?)\?", _state_what),
    (r"How (?:big|long) (?P<be>is) (?P<np>.+?, in [a-z ]+)\?", _state_what),
    (r"(?:Find|Calculate) (?P<np>the .+)\.", "{NP} is {ans}."),
    (r"Find how many (?P<noun>[a-z ]+?) (?P<rest>[A-Z][a-z]+ [a-z ]+)\.", "{rest} {ans} {noun}."),
    (r"How many (?P<noun>[a-z ]+?) (?P<be>are|were) (?P<rest>left|still left[a-z ]*|in each [a-z]+|left for each [a-z]+|sold [a-z ]+|[a-z]+ed(?: [a-z ]+)?)\?", "{ans} {noun} {be} {rest}."),
    (r"How many (?P<noun>[a-z ]+?) (?P<v>remain|go|went|get \w+)(?P<rest>.*)\?", "{ans} {noun} {v}{rest}."),
    (r"How many (?P<noun>[a-z ]+?) (?P<x>a (?:day|week) )?is (?P<s>that|it)(?P<rest> .+)?\?", "{S} is {ans} {noun}{rest}{x_}."),
    (r"How many (?P<noun>\w+) long is (?P<s>.+)\?", "{S} is {ans} {noun} long."),
    (r"How many (?P<noun>[a-z ]+?) (?P<v>still need|need) (?P<rest>to be [a-z]+(?: [a-z ]+)?)\?", "{ans} {noun} {v} {rest}."),
    (r"How many (?P<noun>(?:square )?[a-z]+) is (?P<s>the [a-z ]+)\?", "{S} is {ans} {noun}."),
    (r"How many (?P<noun>(?:more )?[a-z ]+?) (?P<aux>did|does|do|will|could|can|should|must) " + _SUBJ + _VERB + _PARTICLE + _REST + r"\?", _state_how_many),
    (r"How much (?P<what>(?:money|more money|more|change)(?:, in dollars,)? )?(?P<aux>did|does|do|will|should|must) " + _SUBJ + _VERB + _PARTICLE + _OBJ + _REST + r"\?", _state_how_much),
    (r"How far (?P<aux>did|does|will) " + _SUBJ + _VERB + _PARTICLE + _REST + r"\?", _state_how_much),
    (r"How much (?:money )?(?P<noun>of the money )?(?:is|was) left(?P<rest>.*)\?", "{ans} {noun}is left{rest}."),
    (r"How much (?P<noun>\w+), in (?P<u>[a-z ]+), is (?P<v>\w+)\?", "{ans} {u} of {noun} is {v}."),
    (r"How long (?P<aux>will|did|does) " + _SUBJ + r" take" + _OBJ + r"(?P<rest>(?: to .+?)?)(?:, in (?:hours|minutes))?\?", _state_how_long),
)
# fmt: on


def statement(question: str, answer: str, kind: str = "", context: str = "") -> tuple[str, bool]:
    """(the sentence stating that ``question``'s answer is ``answer``, whether a rule wrote
    it as a declarative sentence); a leading ``If ..., `` clause is kept. ``kind``, the
    answer's kind, adds a unit where the question only implies it (``hours``, ``minutes``;
    for a length, the first unit in ``context``, the problem's text)."""
    unit = {"hours": " hours", "minutes": " minutes"}.get(kind, "")
    if kind == "length" and (u := re.search(r"\b(miles|kilometers|meters|feet)\b", context)):
        unit = f" {u.group(1)}"
    prefix, q = "", question.strip()
    m = re.match(r"(?P<p>.+?, )(?P<q>(?:how|what|find|calculate)\b.*)", q)
    if m and not q.lower().startswith(("how", "what")):
        prefix, q = m["p"], m["q"][0].upper() + m["q"][1:]
    for pattern, rule in _RULES:
        m = re.fullmatch(pattern, q)
        if not m:
            continue
        groups = defaultdict(str, {k: v or "" for k, v in m.groupdict().items()})
        if callable(rule):
            text = rule(groups, answer, unit)
        else:
            extra = {
                "S": _cap(groups.get("s", "")),
                "T": _cap(groups.get("t", "")),
                "NP": _cap(groups.get("np", "")),
                "x_": " " + groups["x"].strip() if groups.get("x") else "",
            }
            text = rule.format(ans=answer, unit=unit, **groups, **extra)
        text = _cap(text)
        if prefix:
            text = prefix + _decap(text)
        return text, True
    return f'The answer to "{question.strip()}" is {answer}.', False


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decap(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text if first in _EN_NAMES or first.isupper() else text[:1].lower() + text[1:]
