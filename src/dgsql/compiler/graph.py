"""Dependency graphs (tables reading tables, columns reading columns): a cycle to report, a
deterministic order, reachability.

The standard library's :mod:`graphlib` does the ordering; a cycle is found by a depth-first
search in insertion order so that the one reported is the same every run. (networkx did this
until 0.5.0: importing it cost more than a small build.)

>>> g = Graph(["a", "b", "c"])
>>> g.add_edge("c", "a"); g.add_edge("b", "a")
>>> g.order(key=["a", "b", "c"].index)
['b', 'c', 'a']
>>> g.add_edge("a", "c"); g.cycle()
['a', 'c', 'a']
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable, Iterable, Iterator
from graphlib import TopologicalSorter
from typing import Any, Generic, TypeVar

N = TypeVar("N", bound=Hashable)


class Graph(Generic[N]):
    """A directed graph: an edge ``u → v`` says ``u`` comes before ``v`` (``v`` reads ``u``).

    Nodes and each node's successors keep the order they were added in; every answer
    follows it. Each edge carries a dict of attributes (:meth:`edge`)."""

    def __init__(self, nodes: Iterable[N] = ()) -> None:
        self._succ: dict[N, dict[N, dict[str, Any]]] = {}
        for n in nodes:
            self.add_node(n)

    def add_node(self, n: N) -> None:
        self._succ.setdefault(n, {})

    def add_edge(self, u: N, v: N) -> None:
        self.add_node(u)
        self.add_node(v)
        self._succ[u].setdefault(v, {})

    def edge(self, u: N, v: N) -> dict[str, Any]:
        """The attributes of the edge ``u → v`` (a KeyError when there is none)."""
        return self._succ[u][v]

    def __iter__(self) -> Iterator[N]:
        return iter(self._succ)

    def __contains__(self, n: object) -> bool:
        return n in self._succ

    def __len__(self) -> int:
        return len(self._succ)

    @property
    def edges(self) -> list[tuple[N, N]]:
        return [(u, v) for u, succ in self._succ.items() for v in succ]

    def predecessors(self, v: N) -> list[N]:
        return [u for u, succ in self._succ.items() if v in succ]

    def cycle(self) -> list[N] | None:
        """A cycle as its nodes along the edges, the first repeated at the end
        (``[a, b, a]``), or None when the graph has none. A self-loop counts."""
        state: dict[N, int] = {}  # 1 on the current path, 2 finished
        for root in self._succ:
            if root in state:
                continue
            path = [root]
            todo = [iter(self._succ[root])]
            state[root] = 1
            while todo:
                nxt = next(todo[-1], None)
                if nxt is None:
                    state[path.pop()] = 2
                    todo.pop()
                elif state.get(nxt) == 1:
                    return [*path[path.index(nxt) :], nxt]
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    todo.append(iter(self._succ[nxt]))
        return None

    def order(self, key: Callable[[N], Any] | None = None) -> list[N]:
        """Every node after its predecessors; among nodes ready at the same time, the smallest
        ``key`` first (insertion order without one). Raises ``graphlib.CycleError`` on a cycle
        (call :meth:`cycle` first to report it)."""
        rank = key or {n: i for i, n in enumerate(self._succ)}.__getitem__
        sorter: TopologicalSorter[N] = TopologicalSorter()
        for u, succ in self._succ.items():
            sorter.add(u)
            for v in succ:
                sorter.add(v, u)
        sorter.prepare()
        tie = itertools.count()
        ready: list[tuple[Any, int, N]] = []
        done: list[N] = []
        while sorter.is_active():
            for n in sorter.get_ready():
                heapq.heappush(ready, (rank(n), next(tie), n))
            _, _, n = heapq.heappop(ready)
            sorter.done(n)
            done.append(n)
        return done

    def reaches(self, source: N, target: N) -> bool:
        """Whether a path of edges leads from ``source`` to ``target`` (a node reaches itself)."""
        seen = {source}
        todo = [source]
        while todo:
            n = todo.pop()
            if n == target:
                return True
            for m in self._succ.get(n, ()):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return False
