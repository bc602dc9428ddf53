"""Suppression that cannot be undone (issue 16): the one function that decides what a viewer may
see of a table of counts.

A table is a set of cells (counts) and the sums that tie them together: a row total, a
column total, a parent unit = its sub-units + its own officers, "officers = examined + not
examined". Every sum a screen shows, or lets one compute (a total beside its parts, a rate
beside its denominator), is a relation here: cells that are never drawn (the officers
*not* examined, a unit's own officers outside its sub-units) are cells all the same, since
arithmetic over what is drawn reveals them.

:func:`suppress` hides

1. every count of 1–4 (``SMALL_GROUP``; a count of 0 says nothing about a person), and
2. enough other cells (complementary suppression) that no hidden cell is determined by the
   shown cells and the relations: no relation keeps a single hidden cell, no linear
   combination of relations isolates one (checked by rank on the hidden cells), and, where a
   hidden cell is 0, "counts are never negative" does not pin one either (linear programming).
   A 0 summed into a shown 0 is known anyway and is never used as a complement.

Screens write a hidden cell as :data:`HIDDEN` whatever its value, so "<5" and "hidden to
protect another cell" read alike (a different mark would tell an attacker a complement is
0 or ≥5 and narrow the small one down), and show a rate only when numerator and denominator
are both shown (:func:`rate`). Pure functions: no database.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Iterable, Mapping, Sequence

import numpy as np

from models.vocab import SMALL_GROUP

HIDDEN = "<5*"
TOTAL = "__total__"

Key = Hashable
Relation = tuple[Key, Sequence[Key]]  # (total, parts): total = sum(parts)


def is_small(n: int | None) -> bool:
    return n is not None and 0 < n < SMALL_GROUP


@dataclass
class Table:
    """Cells and the sums between them; ``hidden`` after :meth:`suppress`."""

    cells: dict[Key, int] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    hidden: frozenset = frozenset()

    def add(self, key: Key, value: int | None) -> Key:
        self.cells[key] = int(value or 0)
        return key

    def sum_of(self, total: Key, parts: Iterable[Key]) -> None:
        parts = list(parts)
        if parts:
            self.relations.append((total, parts))

    def suppress(self) -> "Table":
        self.hidden = suppress(self.cells, self.relations)
        return self

    def shown(self, key: Key) -> bool:
        return key in self.cells and key not in self.hidden

    def value(self, key: Key) -> int | None:
        """The count, or None when hidden."""
        return None if key in self.hidden else self.cells.get(key)

    def text(self, key: Key) -> str:
        v = self.value(key)
        return HIDDEN if v is None else f"{v:,}"

    def rate(self, num: Key, den: Key) -> float | None:
        return rate(self.value(num), self.value(den))


def rate(numerator: int | None, denominator: int | None) -> float | None:
    """A share only where numerator and denominator are both shown (else None)."""
    if numerator is None or denominator is None or not denominator:
        return None
    return numerator / denominator


def grid(rows: Mapping[Key, Mapping[Key, int]], columns: Sequence[Key]) -> Table:
    """A rows × columns table with row totals ``(row, TOTAL)``, column totals ``(TOTAL, col)``
    and the grand total ``(TOTAL, TOTAL)``; cells keyed ``(row, col)``."""
    t = Table()
    for r, values in rows.items():
        for c in columns:
            t.add((r, c), values.get(c, 0))
        t.add((r, TOTAL), sum(values.get(c, 0) for c in columns))
        t.sum_of((r, TOTAL), [(r, c) for c in columns])
    for c in [*columns, TOTAL]:
        t.add((TOTAL, c), sum(t.cells[(r, c)] for r in rows))
        t.sum_of((TOTAL, c), [(r, c) for r in rows])
    t.sum_of((TOTAL, TOTAL), [(TOTAL, c) for c in columns])
    return t


def suppress(cells: Mapping[Key, int], relations: Sequence[Relation], *, small: int = SMALL_GROUP) -> frozenset:
    """The cells a viewer may not see: counts 1..small-1 and their complements (see the module)."""
    hidden = {k for k, v in cells.items() if 0 < v < small}
    if not hidden:
        return frozenset()
    members = [[total, *parts] for total, parts in relations]
    # a 0 summed into a shown 0 is known whatever is shown: no use as a complement, never "hidden"
    pinned = {k for total, parts in relations if cells[total] == 0 for k in [total, *parts] if cells[k] == 0}
    while True:
        grew = False
        for group in members:  # 1. no sum with a single hidden cell
            if sum(k in hidden and k not in pinned for k in group) == 1:
                pick = _complement(group, hidden | pinned, cells)
                if pick not in hidden:
                    hidden.add(pick)
                    grew = True
        if grew:
            continue
        exposed = _determined(hidden - pinned, relations)  # 2. nor a combination of sums
        if not exposed and any(cells[k] == 0 for k in hidden - pinned):
            exposed = _bounded(hidden - pinned, relations, cells)  # 3. nor sums and "never negative"
        if not exposed:
            return frozenset(hidden)
        key = exposed[0]
        group = min((g for g in members if key in g and any(k not in hidden and k not in pinned for k in g)),
                    key=lambda g: sum(k in hidden for k in g), default=None)
        if group is not None:
            hidden.add(_complement(group, hidden | pinned, cells))
            continue
        # every sum through ``key`` is hidden already: hide the first cell next to the hidden
        # ones that leaves ``key`` undetermined (smallest counts first)
        near = sorted({k for g in members if any(m in hidden for m in g) for k in g if k not in hidden and k not in pinned},
                      key=lambda k: (cells[k] == 0, cells[k], repr(k)))
        if not near:  # nothing left to hide but the sums themselves
            hidden.update(k for g in members if key in g for k in g)
            return frozenset(hidden)
        pick = next((k for k in near if key not in _determined((hidden - pinned) | {k}, relations)), None)
        hidden.update([pick] if pick is not None else near)


def _complement(group: list[Key], unavailable: set, cells: Mapping[Key, int]) -> Key:
    """The cell to hide with the lone hidden one of ``group``: the smallest non-zero part, else
    the total when it is not zero, else a zero part. A hidden 0 is a poor complement: counts
    are never negative, so a 0 pins what it is summed with."""
    total, parts = group[0], group[1:]
    candidates = [k for k in parts if k not in unavailable]
    nonzero = [k for k in candidates if cells[k] > 0]
    if nonzero:
        return min(nonzero, key=lambda k: cells[k])
    if total not in unavailable and cells[total] > 0:
        return total
    if candidates:
        return candidates[0]
    return total


def _bounded(hidden: set, relations: Sequence[Relation], cells: Mapping[Key, int]) -> list[Key]:
    """Hidden non-zero cells that the sums pin down once counts are known to be non-negative
    (the narrowest range linear programming gives is one value). Only asked when a hidden cell
    is 0: a cell the sums leave open can otherwise move both ways."""
    from scipy.optimize import linprog

    order = sorted(hidden, key=repr)
    index = {k: i for i, k in enumerate(order)}
    a_eq, b_eq = [], []
    for total, parts in relations:
        row, rhs = np.zeros(len(order)), 0.0
        for k, sign in [(total, -1.0)] + [(p, 1.0) for p in parts]:
            if k in index:
                row[index[k]] += sign
            else:
                rhs -= sign * cells[k]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    if not a_eq:
        return []
    out = []
    for k, i in index.items():
        if cells[k] == 0:
            continue
        c = np.zeros(len(order))
        c[i] = 1.0
        lo = linprog(c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(0, None), method="highs")
        if lo.status == 0 and hi.status == 0 and -hi.fun - lo.fun < 0.5:
            out.append(k)
    return out


def _determined(hidden: set, relations: Sequence[Relation]) -> list[Key]:
    """Hidden cells whose value follows from the shown cells and the relations (by rank: the
    cell's unit vector lies in the row space of the relations restricted to hidden cells)."""
    order = sorted(hidden, key=repr)
    index = {k: i for i, k in enumerate(order)}
    rows = []
    for total, parts in relations:
        row = np.zeros(len(order))
        touched = False
        if total in index:
            row[index[total]] -= 1
            touched = True
        for k in parts:
            if k in index:
                row[index[k]] += 1
                touched = True
        if touched:
            rows.append(row)
    if not rows:
        return []
    a = np.array(rows)
    rank = int(np.linalg.matrix_rank(a))
    if rank == 0:
        return []
    _u, _s, vt = np.linalg.svd(a, full_matrices=False)
    basis = vt[:rank]  # orthonormal rows spanning the row space
    # e_i lies in the row space exactly when its projection onto it has length 1
    reach = (basis ** 2).sum(axis=0)
    return [k for k, i in index.items() if reach[i] > 1 - 1e-9]


# --- the tables the screens show -------------------------------------------------------------
def counts_table(counts: Mapping[Key, int], extra: Mapping[Key, tuple[int, Sequence[Key]]] | None = None) -> Table:
    """One row of counts and its total (``TOTAL``): the per-colour counts of /warnings and the
    overview. ``extra``: further shown sums {key: (value, parts)} (e.g. red+orange)."""
    t = Table()
    for k, v in counts.items():
        t.add(k, v)
    t.add(TOTAL, sum(counts.values()))
    t.sum_of(TOTAL, list(counts))
    for k, (v, parts) in (extra or {}).items():
        t.add(k, v)
        t.sum_of(k, parts)
    return t.suppress()


def unit_tree_table(root: Key, counts: Mapping[Key, Mapping[Key, int]], children: Sequence[Key],
                    columns: Sequence[Key], combined: Mapping[Key, Sequence[Key]] | None = None) -> Table:
    """A unit and its shown sub-units, per column (e.g. colour): cells ``(unit, col)``, each unit's
    ``(unit, TOTAL)``, the unit's own officers outside the sub-units as ``("own", col)`` (drawn as
    the treemap's own tiles, and in any case the difference of what is shown), and combined
    columns such as red+orange ``{"red_orange": ("red", "orange")}``."""
    combined = dict(combined or {})
    t = Table()
    own = {c: counts[root].get(c, 0) - sum(counts[u].get(c, 0) for u in children) for c in columns}
    rows = {**{u: counts[u] for u in [root, *children]}, "own": own}
    for u, values in rows.items():
        for c in columns:
            t.add((u, c), values.get(c, 0))
        t.add((u, TOTAL), sum(values.get(c, 0) for c in columns))
        t.sum_of((u, TOTAL), [(u, c) for c in columns])
        for name, parts in combined.items():
            t.add((u, name), sum(values.get(c, 0) for c in parts))
            t.sum_of((u, name), [(u, c) for c in parts])
    for c in [*columns, TOTAL, *combined]:
        t.sum_of((root, c), [(u, c) for u in [*children, "own"]])
    return t.suppress()


def single(n: int | None) -> str:
    """A count shown alone (no sum beside it): hidden when 1–4."""
    if n is None:
        return HIDDEN
    return HIDDEN if is_small(n) else f"{n:,}"
