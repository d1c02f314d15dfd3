r"""Can a JavaScript regular expression backtrack catastrophically? An automaton analysis.

The platform refuses a ``settings.<key>.pattern`` that ``recheck`` finds ReDoS-prone. This
module answers the same question without Node: the pattern is parsed (after
:func:`~civitai_app_sdk.blocks.jsregex.js_to_python`) and turned into a position automaton
(Glushkov) that keeps how many ways a backtracking engine has to go from one position to the
next. A search that is not anchored with ``^`` gets an implicit any-character loop in front,
as ``RegExp.prototype.test`` retries at every offset. On that automaton:

* **exponential**: some position can be left and re-entered by two different paths reading
  the same text (``(a|a)*``, ``(a+)+``, ``(\s*,\s*)*x``): the number of paths doubles with
  each repetition;
* **polynomial**: a chain of loops each of which can hand the same text on to the next
  (``.*.*.*=``); with ``k`` such loops a failing match costs about ``n**k`` steps. Inputs are
  capped at 1,000 characters, so ``k >= 3`` (a billion steps) is refused and ``k = 2`` is
  not. A loop from which the match can already end successfully does not count.

Counted repeats up to 8 are unrolled exactly (``x{2,4}`` as ``xx(x(x)?)?``). Larger counts
are analysed as unbounded (``x{1,10}`` as ``x+``): on short inputs ``(a{1,10}){1,10}`` is as
slow as ``(a+)+``. A counted repeat of a body that can match empty (``(a?){30}``,
``(\s?){2,5}``) is refused whatever the count: each character can go to any of the
iterations, so the ways multiply; ``\s{0,5}`` says the same thing safely.
Zero-width assertions and lookarounds are ignored (the analysis may only see more paths than
exist), a backreference is treated as "any text", and an automaton larger than
:data:`MAX_POSITIONS` (or an analysis longer than :data:`MAX_STEPS`) counts as prone, like
``recheck``'s "unknown", which the platform refuses.
"""

from __future__ import annotations

import bisect
import functools
import re
import re._constants as sre  # type: ignore[import-not-found]  # typeshed has no stubs
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from civitai_app_sdk.blocks.jsregex import (
    _CLASS_ESCAPES,
    _LINE_ENDS,
    _TOP,
    _merged,
    js_to_python,
    syntax_chars,
)
from civitai_app_sdk.blocks.jsregex import _complement as _complement_list
from civitai_app_sdk.blocks.patterns import check_length

__all__ = [
    "MAX_POSITIONS",
    "MAX_STEPS",
    "POLYNOMIAL_DEGREE_LIMIT",
    "WITNESS_RUNS",
    "is_redos_prone",
    "redos_complexity",
]

MAX_POSITIONS: Final = 300
"""Larger automata are not analysed: the pattern counts as prone."""
MAX_STEPS: Final = 200_000
"""Analysis work (product-automaton edges visited) after which a pattern counts as prone."""
WITNESS_RUNS: Final = 10_000
"""This many runs on one worst-case text (about ``2**13``) make a loop-free part prone."""
POLYNOMIAL_DEGREE_LIMIT: Final = 3
"""A chain of this many ambiguous loops (``n**3`` steps) makes a pattern prone."""
_EXACT_COPIES: Final = 8

Ranges = tuple[tuple[int, int], ...]
_ALL: Final[Ranges] = ((0, _TOP),)


def _normalise(ranges: Iterable[tuple[int, int]]) -> Ranges:
    return tuple(_merged(ranges))


def _complement(ranges: Ranges) -> Ranges:
    return tuple(_complement_list(ranges))


# The JS sets of `\s`, `\w` and `\d` (what `[\s\S]` reads as), and `.`, as the translation has them.
_SPACE: Final = _normalise(_CLASS_ESCAPES["s"])
_WORD: Final = _normalise(_CLASS_ESCAPES["w"])
_DIGIT: Final = _normalise(_CLASS_ESCAPES["d"])
_NOT_LINE_END: Final = _complement(_normalise(_LINE_ENDS))
_CATEGORIES: Final = {
    sre.CATEGORY_DIGIT: _DIGIT,
    sre.CATEGORY_NOT_DIGIT: _complement(_DIGIT),
    sre.CATEGORY_WORD: _WORD,
    sre.CATEGORY_NOT_WORD: _complement(_WORD),
    sre.CATEGORY_SPACE: _SPACE,
    sre.CATEGORY_NOT_SPACE: _complement(_SPACE),
}


def _overlap(a: Ranges, b: Ranges) -> bool:
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] < b[j][0]:
            i += 1
        elif b[j][1] < a[i][0]:
            j += 1
        else:
            return True
    return False


class _TooComplex(Exception):
    """The automaton would exceed :data:`MAX_POSITIONS` or uses unsupported syntax."""


def _cap(n: int) -> int:
    return min(n, 2)  # only "one way" versus "several ways" matters


Counts = dict[int, int]


def _add(into: Counts, other: Counts, times: int = 1) -> Counts:
    out = dict(into)
    if times:
        for key, count in other.items():
            out[key] = _cap(out.get(key, 0) + count * times)
    return out


@dataclass
class _Part:
    """A sub-expression: its ways to match empty, first and last positions (with counts)."""

    empty: int = 1
    free: bool = True  # matches empty without any assertion (so the match may end)
    first: Counts = field(default_factory=dict)
    last: Counts = field(default_factory=dict)
    accepting: Counts = field(default_factory=dict)  # last positions not followed by an assertion


def _optional(part: _Part) -> _Part:
    """``part`` or nothing."""
    return _Part(
        empty=_cap(part.empty + 1),
        free=True,
        first=part.first,
        last=part.last,
        accepting=part.accepting,
    )


class _Builder:
    """Glushkov construction with path counts over a parsed ``re`` tree."""

    def __init__(self) -> None:
        self.sets: list[Ranges] = []
        self.follow: defaultdict[int, Counts] = defaultdict(dict)

    def position(self, ranges: Ranges) -> _Part:
        if len(self.sets) >= MAX_POSITIONS:
            raise _TooComplex
        index = len(self.sets)
        self.sets.append(ranges)
        one = {index: 1}
        return _Part(empty=0, free=False, first=one, last=one, accepting=one)

    def link(self, sources: Counts, targets: Counts) -> None:
        for p, cp in sources.items():
            row = self.follow[p]
            for q, cq in targets.items():
                row[q] = _cap(row.get(q, 0) + cp * cq)

    def concat(self, a: _Part, b: _Part) -> _Part:
        self.link(a.last, b.first)
        return _Part(
            empty=_cap(a.empty * b.empty),
            free=a.free and b.free,
            first=_add(a.first, b.first, a.empty),
            last=_add(b.last, a.last, b.empty),
            accepting=_add(b.accepting, a.accepting) if b.free else dict(b.accepting),
        )

    def sequence(self, items: Iterable[tuple[Any, Any]]) -> _Part:
        part = _Part()
        for op, arg in items:
            part = self.concat(part, self.node(op, arg))
        return part

    def union(self, parts: list[_Part]) -> _Part:
        out = _Part(empty=0, free=False)
        for part in parts:
            out = _Part(
                empty=_cap(out.empty + part.empty),
                free=out.free or part.free,
                first=_add(out.first, part.first),
                last=_add(out.last, part.last),
                accepting=_add(out.accepting, part.accepting),
            )
        return out

    def repeat(self, low: int, high: int, body: list[tuple[Any, Any]]) -> _Part:
        if high == 0:
            return _Part()
        part = self.sequence(body)
        if not part.empty and 1 < high <= _EXACT_COPIES:
            return self.unrolled(part, low, high, body)
        if high != 1:
            self.link(part.last, part.first)
            if part.empty and (low > 1 or high != -1):
                # A counted repeat of a body that can match empty: each consuming
                # iteration may be any of the counted ones, so there are several ways.
                self.link(part.last, part.first)
        return _optional(part) if low == 0 else part

    def unrolled(self, first: _Part, low: int, high: int, body: list[tuple[Any, Any]]) -> _Part:
        """``body{low,high}`` as copies, the optional ones nested (``x(x(x)?)?``), so a body
        that cannot match empty gets exactly one path per text, as in a backtracking engine."""
        tail = _Part()
        for _ in range(high - max(low, 1)):
            tail = _optional(self.concat(self.sequence(body), tail))
        if low == 0:
            return _optional(self.concat(first, tail))
        for _ in range(low - 1):
            first = self.concat(first, self.sequence(body))
        return self.concat(first, tail)

    def charset(self, items: list[tuple[Any, Any]]) -> Ranges:
        negate, ranges = False, []
        for op, arg in items:
            if op is sre.NEGATE:
                negate = True
            elif op is sre.LITERAL:
                ranges.append((arg, arg))
            elif op is sre.RANGE:
                ranges.append(arg)
            elif op is sre.CATEGORY:
                ranges.extend(_CATEGORIES.get(arg, _ALL))
            else:
                raise _TooComplex
        merged = _normalise(ranges)
        return _complement(merged) if negate else merged

    def node(self, op: Any, arg: Any) -> _Part:
        if op is sre.LITERAL:
            return self.position(((arg, arg),))
        if op is sre.NOT_LITERAL:
            return self.position(_complement(((arg, arg),)))
        if op is sre.ANY:
            return self.position(_NOT_LINE_END)
        if op is sre.IN:
            return self.position(self.charset(arg))
        if op is sre.SUBPATTERN:
            return self.sequence(arg[3])
        if op is sre.ATOMIC_GROUP:
            return self.sequence(arg)
        if op is sre.BRANCH:
            return self.union([self.sequence(branch) for branch in arg[1]])
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, body = arg
            return self.repeat(low, -1 if high is sre.MAXREPEAT else high, body)
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            return _Part(free=False)
        if op is sre.GROUPREF:
            any_text = self.position(_ALL)
            self.link(any_text.last, any_text.first)
            return _Part(free=True, first=any_text.first, last=any_text.last, accepting={})
        raise _TooComplex


def _separate_alternatives(source: str) -> str:
    """Append ``()`` to every alternative but the last, so ``re`` cannot merge ``a|a`` into
    the set ``[a]`` (which would hide the ambiguity); the language is unchanged."""
    out, start = [], 0
    for index, char in syntax_chars(source):
        if char == "|":
            out += [source[start:index], "()"]
            start = index
    return "".join([*out, source[start:]])


class _Budget:
    """Counts analysis steps; past :data:`MAX_STEPS` the pattern is too complex to analyse."""

    def __init__(self) -> None:
        self.left = MAX_STEPS

    def spend(self, steps: int = 1) -> None:
        self.left -= steps
        if self.left < 0:
            raise _TooComplex


Pair = tuple[int, int]
Keep = Callable[[int, int], bool]


class _Automaton:
    """Positions, their character sets, counted transitions and strongly connected parts."""

    def __init__(
        self, sets: list[Ranges], follow: dict[int, Counts], body: _Part, accepting: Counts
    ) -> None:
        self.sets = sets
        self.accepts_empty = bool(body.empty) and body.free
        start = body.first
        self.start = [(q, n) for q, n in start.items() if n and sets[q]]
        self.accepting = frozenset(accepting)
        self.succ: list[list[tuple[int, int]]] = [
            [(q, n) for q, n in follow.get(p, {}).items() if n and sets[q]]
            for p in range(len(sets))
        ]
        self.pred: list[list[int]] = [[] for _ in sets]
        for p, row in enumerate(self.succ):
            for q, _ in row:
                self.pred[q].append(p)
        self.comp = _components(range(len(sets)), lambda p: [q for q, _ in self.succ[p]])
        members: defaultdict[int, list[int]] = defaultdict(list)
        for p in range(len(sets)):
            members[self.comp[p]].append(p)
        self.loops = {
            c: ps
            for c, ps in members.items()
            if len(ps) > 1 or any(q == ps[0] for q, _ in self.succ[ps[0]])
        }

    def same_char(self, p: int, q: int) -> bool:
        return p == q or _overlap(self.sets[p], self.sets[q])

    def pair_steps(self, pair: Pair, budget: _Budget, keep: Keep) -> list[tuple[Pair, int]]:
        """Pairs reached by reading one character on both sides, with how many ways."""
        steps = []
        for p2, c1 in self.succ[pair[0]]:
            for q2, c2 in self.succ[pair[1]]:
                budget.spend()
                if keep(p2, q2) and self.same_char(p2, q2):
                    ways = c1 * c2 if pair[0] == pair[1] and p2 == q2 else 1
                    steps.append(((p2, q2), ways))
        return steps

    def pair_back(self, pair: Pair, budget: _Budget, keep: Keep) -> list[Pair]:
        """Pairs from which one character on both sides reaches ``pair``."""
        if not self.same_char(*pair):
            return []
        budget.spend(len(self.pred[pair[0]]) * len(self.pred[pair[1]]))
        return [(a, b) for a in self.pred[pair[0]] for b in self.pred[pair[1]] if keep(a, b)]


def _automaton(source: str) -> _Automaton:
    tree = sre_parse.parse(_separate_alternatives(js_to_python(source, exact=False)))
    items = list(tree)
    builder = _Builder()
    if items and items[0] == (sre.AT, sre.AT_BEGINNING):
        part = body = builder.sequence(items)
    else:  # RegExp.test retries at every offset: an any-character loop in front
        loop = builder.position(_ALL)
        builder.link(loop.last, loop.first)
        body = builder.sequence(items)
        part = builder.concat(loop, body)
    return _Automaton(builder.sets, dict(builder.follow), body, part.accepting)


def _components(nodes: Iterable[Any], edges: Any) -> dict[Any, int]:
    """Tarjan's strongly connected components, iteratively: node -> component number."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    comp: dict[Any, int] = {}
    stack: list[Any] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    work.append((child, iter(edges(child))))
                    break
                if child not in comp:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        comp[member] = index[node]
                        if member == node:
                            break
    return comp


def _exponential(automaton: _Automaton, budget: _Budget) -> bool:
    """Two different paths from a position back to itself reading the same text.

    Such paths stay in one strongly connected part, so each loop is checked on its own:
    in the automaton of pairs, a component holding an equal pair and an unequal one, or an
    edge between equal pairs taken two ways.
    """
    for c, members in automaton.loops.items():

        def inside(p: int, q: int, c: int = c) -> bool:
            return automaton.comp[p] == c and automaton.comp[q] == c

        graph: dict[Pair, list[tuple[Pair, int]]] = {}
        todo = [(p, p) for p in members]
        while todo:
            pair = todo.pop()
            if pair not in graph:
                graph[pair] = automaton.pair_steps(pair, budget, inside)
                todo.extend(target for target, _ in graph[pair])
        comp = _components(graph, functools.partial(_targets, graph))
        kinds: dict[int, set[bool]] = defaultdict(set)
        for (p, q), k in comp.items():
            kinds[k].add(p == q)
        for node, edges in graph.items():
            for target, ways in edges:
                if comp[node] == comp[target] and (len(kinds[comp[node]]) == 2 or ways > 1):
                    return True
    return False


def _targets(graph: dict[Pair, list[tuple[Pair, int]]], node: Pair) -> list[Pair]:
    return [target for target, _ in graph[node]]


def _contains(ranges: Ranges, char: int) -> bool:
    index = bisect.bisect_right(ranges, (char, _TOP)) - 1
    return index >= 0 and ranges[index][0] <= char <= ranges[index][1]


def _witness_runs(automaton: _Automaton, budget: _Budget) -> int:
    """Runs a backtracking engine walks through on one greedy worst-case text.

    From the first positions (the offset loop in front is left out), each step reads the
    character (one per class of characters the pattern tells apart) that keeps the most
    runs alive without letting the match succeed, for as many steps as there are
    positions, so a loop-free part is read to its end. The total is a lower bound of the
    work on a failing input and catches what the loop analysis cannot:
    ``((a|a){8}){8}y`` and ``(?:([^a]|.){2,5}){2,5}$`` have no loop, yet millions of runs.
    """
    if automaton.accepts_empty:
        return 0
    bounds = sorted({b for ranges in automaton.sets for lo, hi in ranges for b in (lo, hi + 1)})
    chars = [b for b in bounds if b <= _TOP] or [0]
    current: dict[int, int] = {-1: 1}
    total = 0
    for _ in range(len(automaton.sets) + 1):
        best: dict[int, int] = {}
        best_sum = 0
        for char in chars:
            reached: dict[int, int] = {}
            for p, runs in current.items():
                targets = automaton.start if p < 0 else automaton.succ[p]
                budget.spend(len(targets))
                for q, ways in targets:
                    if _contains(automaton.sets[q], char):
                        reached[q] = min(reached.get(q, 0) + runs * ways, WITNESS_RUNS)
            if automaton.accepting.intersection(reached):
                continue  # the match would succeed here: no backtracking after this text
            alive = sum(reached.values())
            if alive > best_sum:
                best, best_sum = reached, alive
        total += best_sum
        if not best_sum or total >= WITNESS_RUNS:
            break
        current = best
    return total


def _reach(start: Pair, edges: Any, budget: _Budget) -> set[Pair]:
    seen = {start}
    todo = [start]
    while todo:
        following = edges(todo.pop())
        budget.spend(len(following) + 1)
        for nxt in following:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _side_in(comp: dict[int, int], side: int, component: int, a: int, b: int) -> bool:
    """Whether side ``side`` of the pair ``(a, b)`` is in ``component``."""
    return comp[(a, b)[side]] == component


def _stepper(automaton: _Automaton, budget: _Budget, keep: Keep) -> Callable[[Pair], list[Pair]]:
    def step(pair: Pair) -> list[Pair]:
        return [target for target, _ in automaton.pair_steps(pair, budget, keep)]

    return step


def _polynomial_degree(automaton: _Automaton, budget: _Budget) -> int:
    """The longest chain of loops each able to pass the same text on to the next one.

    Loop ``C1`` passes text on to loop ``C2`` when, for some ``p`` in ``C1`` and ``q`` in
    ``C2``, reading one text leads from ``(p, p)`` to ``(p, q)`` (one side stays in ``C1``)
    and another from ``(p, q)`` to ``(q, q)`` (the other side stays in ``C2``).
    """
    comp = automaton.comp
    loops = {
        c: ps for c, ps in automaton.loops.items() if not any(p in automaton.accepting for p in ps)
    }
    after: defaultdict[int, set[int]] = defaultdict(set)
    for c1, starts in loops.items():
        first_stays = functools.partial(_side_in, comp, 0, c1)
        for p in starts:
            forward = _reach((p, p), _stepper(automaton, budget, first_stays), budget)
            for c2, ends in loops.items():
                if c2 == c1 or c2 in after[c1]:
                    continue
                second_stays = functools.partial(_side_in, comp, 1, c2)
                for q in ends:
                    if (p, q) in forward and (p, q) in _reach(
                        (q, q),
                        functools.partial(automaton.pair_back, budget=budget, keep=second_stays),
                        budget,
                    ):
                        after[c1].add(c2)
                        break
    longest: dict[int, int] = {}

    def chain(c: int) -> int:
        if c not in longest:
            longest[c] = 1 + max((chain(d) for d in after[c]), default=0)
        return longest[c]

    return max((chain(c) for c in loops), default=0)


def redos_complexity(source: str) -> str:
    """How ``source`` (a JS regular expression, no flags) can backtrack.

    ``"exponential"``, ``"polynomial"`` (degree >= 3), ``"unknown"`` (over
    :data:`MAX_POSITIONS` positions or :data:`MAX_STEPS` steps) or ``"safe"``.

    Raises ``re.error`` when ``source`` does not compile, and
    :class:`~civitai_app_sdk.blocks.errors.BlockManifestError` when it is longer than
    :data:`~civitai_app_sdk.blocks.patterns.MAX_PATTERN_LENGTH` characters (nothing is
    compiled).
    """
    check_length(source)
    budget = _Budget()
    try:
        automaton = _automaton(source)
        if _exponential(automaton, budget):
            return "exponential"
        if _polynomial_degree(automaton, budget) >= POLYNOMIAL_DEGREE_LIMIT:
            return "polynomial"
        if _witness_runs(automaton, budget) >= WITNESS_RUNS:
            return "exponential"
    except (_TooComplex, RecursionError):
        return "unknown"
    return "safe"


def is_redos_prone(source: str) -> bool:
    """Whether the platform should refuse ``source`` as ReDoS-prone (or unanalysable).

    A source too long to analyse raises ``BlockManifestError``, as in :func:`redos_complexity`.
    """
    try:
        return redos_complexity(source) != "safe"
    except (re.error, OverflowError):
        return True
