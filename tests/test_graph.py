"""The dependency graph (dgsql.compiler.graph) orders as networkx did, and finds real cycles."""

import doctest
import random

import networkx as nx
import pytest

from dgsql.compiler import graph as graph_module
from dgsql.compiler.graph import Graph


def test_doctests():
    assert doctest.testmod(graph_module).failed == 0


@pytest.mark.parametrize("seed", range(40))
def test_order_is_networkx_lexicographical_topological_sort(seed):
    rng = random.Random(seed)
    nodes = [f"t{i}" for i in range(rng.randint(1, 12))]
    rng.shuffle(nodes)
    rank = {n: i for i, n in enumerate(nodes)}
    edges = [(u, v) for u in nodes for v in nodes if rank[u] != rank[v] and rng.random() < 0.2]
    edges = [(u, v) for u, v in edges if int(u[1:]) < int(v[1:])]  # acyclic: numbers increase
    g, reference = Graph(nodes), nx.DiGraph()
    reference.add_nodes_from(nodes)
    for u, v in edges:
        g.add_edge(u, v)
        reference.add_edge(u, v)
    assert g.cycle() is None
    assert g.order(key=rank.__getitem__) == list(nx.lexicographical_topological_sort(reference, key=rank.get))
    for u in nodes:
        for v in nodes:
            assert g.reaches(u, v) == (u == v or nx.has_path(reference, u, v))


@pytest.mark.parametrize("seed", range(40))
def test_a_reported_cycle_is_made_of_edges(seed):
    rng = random.Random(seed)
    nodes = list(range(rng.randint(1, 10)))
    g = Graph(nodes)
    for u in nodes:
        for v in nodes:
            if rng.random() < 0.15:
                g.add_edge(u, v)
    cycle = g.cycle()
    reference = nx.DiGraph(g.edges)
    reference.add_nodes_from(nodes)
    assert (cycle is None) == nx.is_directed_acyclic_graph(reference)
    if cycle is not None:
        assert cycle[0] == cycle[-1] and len(set(cycle[:-1])) == len(cycle) - 1
        assert all(reference.has_edge(u, v) for u, v in zip(cycle, cycle[1:], strict=False))
