"""Suppression that cannot be undone (issue 16): hypothesis builds tables of counts, ``suppress``
hides cells, and an attacker who knows every shown cell and every sum tries to work a hidden
cell out — by the sums alone and by the sums plus "counts are never negative" (the narrowest
range linear programming gives). No hidden count above 0 may come out exact (a hidden 0,
hidden as a complement, may: it names nobody)."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from models.suppression import HIDDEN, TOTAL, Table, grid, rate, suppress

COUNTS = st.one_of(st.integers(0, 6), st.integers(0, 80))


def attack(table: Table) -> dict:
    """Per hidden cell, the (lowest, highest) value consistent with what is shown."""
    hidden = sorted(table.hidden, key=repr)
    index = {k: i for i, k in enumerate(hidden)}
    a_eq, b_eq = [], []
    for total, parts in table.relations:
        row, rhs = np.zeros(len(hidden)), 0.0
        for k, sign in [(total, -1.0)] + [(p, 1.0) for p in parts]:
            if k in index:
                row[index[k]] += sign
            else:
                rhs -= sign * table.cells[k]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    out = {}
    for k, i in index.items():
        c = np.zeros(len(hidden))
        c[i] = 1.0
        lo = linprog(c, A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None, bounds=(0, None), method="highs")
        assert lo.status == 0, "the true table is feasible"
        out[k] = (lo.fun, -hi.fun if hi.status == 0 else float("inf"))
    return out


def assert_safe(table: Table) -> None:
    for key, value in table.cells.items():
        if 0 < value < 5:
            assert key in table.hidden, f"small count {key}={value} shown"
    for key, (lo, hi) in attack(table).items():
        # a hidden 0 (a complement) may come out as 0: it names nobody; any other value may not
        assert table.cells[key] == 0 or hi - lo > 0.5, f"hidden {key}={table.cells[key]} recovered as {lo}..{hi}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(COUNTS, min_size=2, max_size=5), min_size=1, max_size=6).filter(
    lambda rows: len({len(r) for r in rows}) == 1))
def test_sup001_grid_hidden_cells_cannot_be_recovered(rows):
    cols = [f"c{j}" for j in range(len(rows[0]))]
    table = grid({f"r{i}": dict(zip(cols, r)) for i, r in enumerate(rows)}, cols).suppress()
    assert_safe(table)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(COUNTS, min_size=4, max_size=4), min_size=1, max_size=5), st.lists(COUNTS, min_size=4, max_size=4))
def test_sup002_unit_tree_with_own_officers_cannot_be_recovered(children, own):
    """A treemap: a parent's colours = its sub-units' + its own officers, each node's total the sum of its colours."""
    levels = ("red", "orange", "yellow", "green")
    t = Table()
    nodes = {f"u{i}": dict(zip(levels, c)) for i, c in enumerate(children)}
    nodes["own"] = dict(zip(levels, own))
    for name, counts in nodes.items():
        for lvl in levels:
            t.add((name, lvl), counts[lvl])
        t.add((name, TOTAL), sum(counts.values()))
        t.sum_of((name, TOTAL), [(name, lvl) for lvl in levels])
        t.add((name, "red_orange"), counts["red"] + counts["orange"])
        t.sum_of((name, "red_orange"), [(name, "red"), (name, "orange")])
    for col in [*levels, TOTAL, "red_orange"]:
        t.add(("root", col), sum(t.cells[(n, col)] for n in nodes))
        t.sum_of(("root", col), [(n, col) for n in nodes])
    t.sum_of(("root", TOTAL), [("root", lvl) for lvl in levels])
    t.sum_of(("root", "red_orange"), [("root", "red"), ("root", "orange")])
    assert_safe(t.suppress())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=8))
def test_sup003_rates_need_both_numerator_and_denominator(units):
    """A funnel: each unit's cases and officers; a rate shown only where both are shown, so rate × officers never gives a hidden count."""
    t = Table()
    for i, (cases, others) in enumerate(units):
        t.add((i, "cases"), cases)
        t.add((i, "others"), others)
        t.add((i, "n"), cases + others)
        t.sum_of((i, "n"), [(i, "cases"), (i, "others")])
    for col in ("cases", "others", "n"):
        t.add(("all", col), sum(t.cells[(i, col)] for i in range(len(units))))
        t.sum_of(("all", col), [(i, col) for i in range(len(units))])
    t.sum_of(("all", "n"), [("all", "cases"), ("all", "others")])
    t.suppress()
    assert_safe(t)
    for i in range(len(units)):
        r = t.rate((i, "cases"), (i, "n"))
        assert (r is None) == (not (t.shown((i, "cases")) and t.shown((i, "n")))) or t.cells[(i, "n")] == 0


def test_sup004_longjiang_row():
    """139 officers, orange 37, yellow 62, green 37 and red 3: red can no longer be worked out."""
    t = grid({"longjiang": {"red": 3, "orange": 37, "yellow": 62, "green": 37}},
             ["red", "orange", "yellow", "green"]).suppress()
    assert t.text(("longjiang", "red")) == HIDDEN
    assert sum(t.shown(("longjiang", c)) for c in ("red", "orange", "yellow", "green")) <= 2
    assert t.text(("longjiang", TOTAL)) == "139"
    assert_safe(t)


def test_sup005_nothing_small_nothing_hidden():
    t = grid({"a": {"x": 10, "y": 0}, "b": {"x": 7, "y": 30}}, ["x", "y"]).suppress()
    assert t.hidden == frozenset()
    assert rate(3, None) is None and rate(None, 10) is None and rate(5, 10) == 0.5
    assert suppress({"a": 0, "b": 12}, [("b", ["a"])]) == frozenset()


def test_sup006_a_zero_complement_does_not_pin_a_total():
    """Found by hypothesis: a sub-unit [1, 4, 0, 0] beside own officers [0, 0, 0, 1]. Hiding a 0
    yellow whose column sums to a shown 0 hid nothing, and the sub-unit's 5 came out exact."""
    levels = ("red", "orange", "yellow", "green")
    t = Table()
    nodes = {"u0": dict(zip(levels, (1, 4, 0, 0))), "own": dict(zip(levels, (0, 0, 0, 1)))}
    for name, counts in nodes.items():
        for lvl in levels:
            t.add((name, lvl), counts[lvl])
        t.add((name, TOTAL), sum(counts.values()))
        t.sum_of((name, TOTAL), [(name, lvl) for lvl in levels])
        t.add((name, "ro"), counts["red"] + counts["orange"])
        t.sum_of((name, "ro"), [(name, "red"), (name, "orange")])
    for col in [*levels, TOTAL, "ro"]:
        t.add(("root", col), sum(t.cells[(n, col)] for n in nodes))
        t.sum_of(("root", col), [(n, col) for n in nodes])
    t.sum_of(("root", TOTAL), [("root", lvl) for lvl in levels])
    t.sum_of(("root", "ro"), [("root", "red"), ("root", "orange")])
    assert_safe(t.suppress())
