"""A grammar of valid Datagen DSL v1 schemas, as Hypothesis strategies.

``schemas()`` draws a whole schema (a JSON-ready dict) that is valid by construction, following
docs/dsl.md, the models in ``dgsql.dsl.model`` and the reference/type rules of
``dgsql.compiler.resolve`` and ``dgsql.compiler.preflight``:

- tables: vocab nodes (``enum_list``), entities (20–300 rows), facts with ``fanout`` (uniform or
  poisson, min/max or ``clamp``, or none: one child per parent), facts with a second parent, a fact
  without parents, optionally a dotted table id and an explicit ``dag``;
- every generator kind: ``sequence``; ``choice`` with ``weights`` / ``weights_kind`` /
  ``choices_ref``; ``distribution`` normal/lognormal/uniform/poisson with and without ``clamp``;
  ``datetime_series`` with ``freq``, hour/dow/month ``pattern``/``patterns``, ``within`` the
  timeframe or an explicit span; ``faker`` (name, first_name, last_name, email, city, company,
  phone_number, address, word, uuid4) with ``locale`` or ``locale_from``; ``lookup`` (random row,
  primary parent, ``on`` joins — also onto an expression over a distribution —, self-reference);
  ``expression`` over numeric columns of the row;
- every modifier (multiply, add, clamp, jitter, time_jitter, map_values, seasonality, trend,
  outliers, effect with effect_table/on/window/map, and a table-level effect on fanout);
- constraints: unique (pks, uuid4, e-mails), foreign_keys, ranges, pattern, enum (values and
  enum_ref, top level and per column), inequalities between same-typed numeric or datetime
  columns of one table, oriented along one order so that they never contradict;
- targets: weekend_share, mean_in_range and composite_effect, each made to hold or at least
  well-formed.

What is drawn is kept valid on purpose; what a schema *should* build is what the DSL documents.
Things a valid schema may legitimately do that make checks fail (sorting an inequality group can
move a value outside a column's own clamp) are avoided where a check would assert them: no range
or mean target is declared on a column of an inequality group.

``Meta`` travels with each schema (in ``schema["__grammar__"]`` is NOT used; the strategies return
``(schema, meta)``) and tells the test which columns sit in an inequality group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa", "lam", "mu"]
ODD_WORDS = ["it's", "a b", "ünï", 'say "hi"', "x;y", ""]
COUNTRIES = ["US", "DE", "GB", "FR", "CZ", "UK", "BR", "Mars"]
LOCALES = ["en_US", "de_DE", "fr_FR", "en_GB", "cs_CZ"]
FAKER_METHODS = [
    "name", "first_name", "last_name", "email", "city", "company", "phone_number", "address", "word",
    "uuid4",
]  # fmt: skip
UUID_RE = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
EMAIL_RE = "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$"
DIMS = {"hour": 24, "dow": 7, "month": 12}
FMT = "%Y-%m-%dT%H:%M:%S"


@dataclass
class Col:
    """What the grammar knows about a column it drew."""

    name: str
    type: str
    kind: str
    spec: dict[str, Any]
    nullable: bool = False
    pk: bool = False
    key_of: str | None = None
    "``table`` when the column holds that table's pk values (a sequence pk or a lookup of one)."
    span: tuple[datetime, datetime] | None = None
    "datetime_series: the span (for inequalities)."
    bounds: tuple[float, float] | None = None
    "distribution: the value range preflight sees (clamp or uniform bounds), without modifiers."
    modified: bool = False
    grouped: bool = False
    "In an inequality group: its values may be swapped with another column's."


@dataclass
class Table:
    id: str
    kind: str
    node: dict[str, Any]
    cols: list[Col] = field(default_factory=list)
    rows: int | None = None
    depth: int = 0
    nonempty: bool = True
    "Sure to hold rows (a fact whose fanout may give 0 everywhere is not read by lookups)."

    @property
    def pk(self) -> Col | None:
        return next((c for c in self.cols if c.pk), None)

    def col(self, name: str) -> Col:
        return next(c for c in self.cols if c.name == name)

    def first_datetime(self, exclude: str = "") -> Col | None:
        return next((c for c in self.cols if c.type == "datetime" and c.name != exclude), None)


@dataclass
class Meta:
    grouped: set[str] = field(default_factory=set)
    "``table.column`` of every column in an inequality group."
    notes: list[str] = field(default_factory=list)


class Builder:
    """Draws one schema step by step; ``draw`` is Hypothesis' ``data.draw``."""

    def __init__(self, draw: Any):
        self.draw = draw
        self.tables: list[Table] = []
        self.constraints: dict[str, list[Any]] = {
            k: [] for k in ("unique", "foreign_keys", "ranges", "inequalities", "pattern", "enum")
        }
        self.targets: dict[str, list[Any]] = {
            "weekend_share": [],
            "mean_in_range": [],
            "composite_effect": [],
        }
        self.meta = Meta()
        self.effect_tables: list[Table] = []

    # -- small draws ---------------------------------------------------------
    def d(self, strategy: st.SearchStrategy) -> Any:
        return self.draw(strategy)

    def flag(self, p: float = 0.5) -> bool:
        # integers() shrinks towards 0 = False: a smaller schema
        return self.d(st.integers(0, 999)) >= 1000 * (1 - p)

    def pick(self, items: list[Any]) -> Any:
        return self.d(st.sampled_from(items))

    def num(self, lo: float, hi: float, places: int = 2) -> float:
        return round(self.d(st.floats(lo, hi, allow_nan=False, allow_infinity=False)), places)

    def weights(self, n: int, zeros: bool = False) -> list[float]:
        w = [self.num(0.05, 3.0) for _ in range(n)]
        if zeros and n > 2 and self.flag(0.3):
            for i in self.d(st.sets(st.integers(0, n - 1), max_size=min(2, n - 1))):
                w[i] = 0.0
        return w

    # -- the schema ----------------------------------------------------------
    def schema(self) -> tuple[dict[str, Any], Meta]:
        start = datetime(2023, 1, 1) + timedelta(days=self.d(st.integers(0, 700)))
        days = self.d(st.integers(14, 400))
        end_kind = self.pick(["2359", "2300", "0000"])
        end = start + timedelta(days=days) - {"2359": timedelta(seconds=1), "2300": timedelta(hours=1),
                                              "0000": timedelta(0)}[end_kind]  # fmt: skip
        freq = self.pick(["H", "h", "D", "30min", "2H", "15min"])
        z = self.pick(["Z", "", "+00:00"])
        self.timeframe = (start, end)
        self.tf_freq = freq
        doc: dict[str, Any] = {
            "version": "1.0",
            "metadata": {"name": self.pick(["g", "grammar", "ds 'x'"])},
            "timeframe": {"start": start.strftime(FMT) + z, "end": end.strftime(FMT) + z, "freq": freq},
        }
        if self.flag(0.3):
            doc["metadata"]["description"] = "drawn by tests/schema_grammar.py"
        for _ in range(self.d(st.integers(0, 2))):
            self.vocab()
        self.entity()
        if self.flag(0.6):
            self.effect_entity()
        for _ in range(self.d(st.integers(0, 2))):
            self.entity()
        for _ in range(self.d(st.integers(0, 3))):
            self.fact()
        for t in self.tables:
            self.inequalities(t)
        self.late_constraints()
        self.late_targets()
        doc["nodes"] = [t.node for t in self.tables]
        doc["constraints"] = {k: v for k, v in self.constraints.items() if v or self.flag(0.2)}
        targets = {}
        for k, v in self.targets.items():
            if v:
                targets[k] = v if len(v) > 1 or self.flag(0.5) else v[0]
        if targets:
            doc["targets"] = targets
        if self.flag(0.2):
            doc["dag"] = [[t.id] for t in self.tables]
        if self.flag(0.5):
            self.hide(doc)
        return doc, self.meta

    def hide(self, doc: dict[str, Any]) -> None:
        """Mark some columns ``hidden``: only those no other table, no lookup, no constraint other
        than an inequality and no target reads, and never a pk, a lookup or a table's last written
        column."""
        ids = [n["id"] for n in doc["nodes"]]
        nodes = {n["id"]: n for n in doc["nodes"]}
        read: set[tuple[str, str]] = set()

        def ref(r: str) -> None:
            table = max((t for t in ids if r.startswith(t + ".")), key=len)
            read.add((table, r[len(table) + 1 :]))

        def first_datetime(table: str, types: tuple[str, ...] = ("datetime",)) -> None:
            found = next((c["name"] for c in nodes[table]["columns"] if c["type"] in types), None)
            if found:
                read.add((table, found))

        def effect(args: dict[str, Any], local: str | None) -> None:
            table = args["effect_table"]
            read.update((table, remote) for remote in args.get("on", {}).values())
            read.add((table, args["map"]["field"]))
            if "window" in args:
                read.update((table, args["window"][end]) for end in ("start_col", "end_col"))
            if local is not None:  # a table-level effect reads its parent's keys and time
                read.update((local, key) for key in args.get("on", {}))
                if "window" in args:
                    first_datetime(local)

        for n in doc["nodes"]:
            if n.get("pk"):
                read.add((n["id"], n["pk"]))
            for c in n["columns"]:
                gen = c["generator"]
                if "lookup" in gen:
                    read.add((n["id"], c["name"]))
                    ref(gen["lookup"]["from"])
                    on = gen["lookup"].get("on") or {}
                    table = max((t for t in ids if gen["lookup"]["from"].startswith(t + ".")), key=len)
                    read.update((table, remote) for remote in on.values())
                if "choice" in gen and "choices_ref" in gen["choice"]:
                    ref(gen["choice"]["choices_ref"])
                if "constraints" in c:
                    read.add((n["id"], c["name"]))
                    if "enum_ref" in c["constraints"]:
                        ref(c["constraints"]["enum_ref"])
                for m in c.get("modifiers", []):
                    if m["transform"] == "effect":
                        effect(m["args"], None)
            for m in n.get("modifiers", []):
                effect(m["args"], n["parents"][0])
        for key, items in doc.get("constraints", {}).items():
            for item in items if key != "inequalities" else []:
                if isinstance(item, str):
                    ref(item)
                else:
                    for field_ in ("from", "to", "attr", "enum_ref"):
                        if field_ in item:
                            ref(item[field_])
        for key, value in doc.get("targets", {}).items():
            for t in value if isinstance(value, list) else [value]:
                for field_ in ("timestamp", "column", "metric"):
                    if field_ in t:
                        read.add((t["table"], t[field_]))
                if key == "composite_effect":
                    first_datetime(t["table"], ("datetime", "date"))
                    for inf in t["influences"]:
                        if "column" in inf:
                            read.add((t["table"], inf["column"]))
        for n in doc["nodes"]:
            free = [c for c in n["columns"] if (n["id"], c["name"]) not in read]
            for c in free[: len(n["columns"]) - 1]:
                if self.flag(0.5):
                    c["hidden"] = True
                    self.meta.notes.append(f"{n['id']}.{c['name']} hidden")

    def new_id(self, prefix: str) -> str:
        n = len(self.tables)
        if prefix == "e" and n and self.flag(0.1):
            return f"s.{prefix}{n}"  # a dotted table id: refs split at the longest table id
        return f"{prefix}{n}"

    # -- tables --------------------------------------------------------------
    def vocab(self) -> None:
        tid = self.new_id("v")
        n = self.d(st.integers(1, 8))
        values = self.d(st.lists(st.sampled_from(WORDS + ODD_WORDS), min_size=n, max_size=n, unique=True))
        node: dict[str, Any] = {"id": tid, "kind": "vocab", "columns": []}
        t = Table(tid, "vocab", node, rows=n)
        self.add(t, Col("name", "string", "enum_list", {"enum_list": {"values": values}}))
        if self.flag(0.5):
            node["pk"] = "name"
            t.cols[0].pk = True
            t.cols[0].key_of = tid
        if self.flag(0.6):
            w = [self.num(0.5, 2.0) for _ in range(n)]
            self.add(t, Col("w", "float", "enum_list", {"enum_list": {"values": w}}, bounds=(0.5, 2.0)))
        if self.flag(0.3):
            self.add(t, self.distribution_col(t, "price"))
        self.tables.append(t)

    def entity(self) -> None:
        tid = self.new_id("e")
        rows = self.d(st.integers(20, 300))
        pk = self.pk_col(tid)
        pk.name = self.pick(["id", "id", tid.replace(".", "_") + "_id"])
        node: dict[str, Any] = {"id": tid, "kind": "entity", "pk": pk.name, "rows": rows, "columns": []}
        t = Table(tid, "entity", node, rows=rows)
        self.add(t, pk)
        self.columns(t, self.d(st.integers(1, 7)))
        self.tables.append(t)

    def effect_entity(self) -> None:
        """A table of windows and factors for ``effect`` modifiers (like retail's promotions)."""
        tid = self.new_id("fx")
        rows = self.d(st.integers(5, 40))
        node: dict[str, Any] = {"id": tid, "kind": "entity", "pk": "fx_id", "rows": rows, "columns": []}
        t = Table(tid, "entity", node, rows=rows)
        pk = self.pk_col(tid)
        pk.name = "fx_id"
        pk.spec = {"sequence": {"start": 1}}
        self.add(t, pk)
        keyed = [e for e in self.tables if e.kind == "entity" and e.pk is not None]
        if keyed and self.flag(0.7):
            target = self.pick(keyed)
            self.add(t, self.fk_lookup(t, target, name="k"))
        window_freq = self.pick(["D", "H"])
        span = {"within": "timeframe", "freq": window_freq}
        for name in ("start_at", "end_at"):
            self.add(
                t,
                Col(
                    name, "datetime", "datetime_series", {"datetime_series": dict(span)}, span=self.timeframe
                ),
            )
        self.constraints["inequalities"].append(
            {"left": f"{tid}.start_at", "op": self.pick(["<", "<="]), "right": f"{tid}.end_at"}
        )
        t.col("start_at").grouped = t.col("end_at").grouped = True
        self.meta.grouped |= {f"{tid}.start_at", f"{tid}.end_at"}
        factor = {"distribution": {"type": "uniform", "params": {"low": 0.5, "high": 2.0}}}
        if self.flag(0.5):
            factor["distribution"]["clamp"] = [0.5, 2.0]
        self.add(t, Col("factor", "float", "distribution", factor, bounds=(0.5, 2.0)))
        self.tables.append(t)
        self.effect_tables.append(t)

    def fact(self) -> None:
        tid = self.new_id("f")
        parents = [t for t in self.tables if t.kind in ("entity", "fact") and t.depth < 2]
        node: dict[str, Any] = {"id": tid, "kind": "fact", "pk": "id", "columns": []}
        if not parents or self.flag(0.08):
            rows = self.d(st.integers(20, 200))
            node["rows"] = rows
            t = Table(tid, "fact", node, rows=rows)
            self.add(t, self.pk_col(tid))
            self.columns(t, self.d(st.integers(1, 5)))
            self.tables.append(t)
            return
        primary = self.pick(parents)
        node["parents"] = [primary.id]
        others = [p for p in self.tables if p is not primary and p.kind != "vocab" and p.rows]
        if others and self.flag(0.3):
            node["parents"].append(self.pick(others).id)
        if self.flag(0.85):
            node["fanout"] = self.fanout(primary)
        fan = node.get("fanout")
        sure = fan is None or (fan.get("min") or (fan.get("clamp") or [0])[0]) >= 1
        t = Table(tid, "fact", node, depth=primary.depth + 1, nonempty=primary.nonempty and sure)
        self.add(t, self.pk_col(tid))
        if primary.pk is not None:
            self.add(t, self.fk_lookup(t, primary, name="parent_id"))
        if len(node["parents"]) > 1:
            second = next(p for p in self.tables if p.id == node["parents"][1])
            if second.pk is not None:
                self.add(t, self.fk_lookup(t, second, name="other_id"))
        self.columns(t, self.d(st.integers(1, 6)))
        if self.effect_tables and self.flag(0.5):
            node["modifiers"] = [self.effect_mod(t, primary, table_level=True)]
        self.tables.append(t)

    def fanout(self, parent: Table) -> dict[str, Any]:
        big = (parent.rows or 300) > 150 or parent.depth > 0
        if self.flag(0.5):
            lo = self.d(st.integers(0, 2))
            hi = self.d(st.integers(max(lo, 1), lo + (2 if big else 4)))
            f: dict[str, Any] = {"distribution": "uniform"}
            if self.flag(0.2):
                f["clamp"] = [lo, hi]
            else:
                f["max"] = hi
                if lo or self.flag(0.5):
                    f["min"] = lo
            return f
        lam = self.num(0.2, 2.5 if big else 5.0)
        f = {"distribution": "poisson", "lambda": lam}
        if self.flag(0.7):
            lo = self.d(st.integers(0, 1))
            hi = self.d(st.integers(max(lo, 1), 12))
            if self.flag(0.2):
                f["clamp"] = [lo, hi]
            else:
                f["min"], f["max"] = lo, hi
        return f

    # -- columns -------------------------------------------------------------
    def add(self, t: Table, col: Col) -> Col:
        c: dict[str, Any] = {"name": col.name, "type": col.type}
        if col.nullable:
            c["nullable"] = True
        c["generator"] = col.spec
        t.node["columns"].append(c)
        t.cols.append(col)
        col.json = c  # type: ignore[attr-defined]
        return col

    def name(self, t: Table, base: str) -> str:
        names = {c.name for c in t.cols}
        if base not in names and not base[-1:].isdigit() and self.flag(0.5):
            return base
        i = 0
        while f"{base}{i}" in names:
            i += 1
        return f"{base}{i}"

    def pk_col(self, tid: str) -> Col:
        start = self.d(st.integers(-5, 1000))
        step = self.pick([1, 1, 2, 10, -1])
        spec: dict[str, Any] = {}
        if start != 1 or self.flag(0.3):
            spec["start"] = start
        if step != 1 or self.flag(0.3):
            spec["step"] = step
        return Col("id", "int", "sequence", {"sequence": spec}, pk=True, key_of=tid)

    def fk_lookup(self, t: Table, target: Table, name: str) -> Col:
        pk = target.pk
        assert pk is not None
        col = Col(self.name(t, name), pk.type, "lookup", {"lookup": {"from": f"{target.id}.{pk.name}"}},
                  key_of=target.id)  # fmt: skip
        self.constraints["foreign_keys"].append(
            {"from": f"{t.id}.{col.name}", "to": f"{target.id}.{pk.name}"}
        )
        return col

    def columns(self, t: Table, n: int) -> None:
        makers = [
            self.sequence_col, self.choice_col, self.choice_ref_col, self.distribution_col,
            self.datetime_col, self.faker_col, self.lookup_col, self.on_lookup_col, self.self_ref_col,
            self.expression_col,
        ]  # fmt: skip
        for _ in range(n):
            maker = self.pick(makers)
            col = maker(t, None)
            if col is None:
                continue
            self.add(t, col)
        for c in list(t.cols):
            if not c.pk and c.key_of is None:
                self.modifiers(t, c)
        if self.effect_tables and self.flag(0.5):
            # a column scaled by an effect table (retail's discount by promotion)
            if t.first_datetime() is None and self.flag(0.7):
                self.add(t, self.datetime_col(t, None, typ="datetime"))
            c = self.add(t, self.distribution_col(t, self.name(t, "scaled")))
            mods = [self.effect_mod(t, t, table_level=False, column=c)]
            if self.flag(0.3):
                mods.append({"transform": "clamp", "args": {"min": 0}})
            c.json["modifiers"] = mods  # type: ignore[attr-defined]
            c.modified = True
        for c in t.cols:
            self.column_extras(t, c)

    def sequence_col(self, t: Table, name: str | None) -> Col:
        typ = self.pick(["int", "float", "string"])
        start = self.d(st.integers(-100, 100)) if typ != "float" else self.num(-10, 10, 1)
        step = self.d(st.integers(-3, 5)) if typ != "float" else self.num(-2, 2, 2)
        return Col(name or self.name(t, "seq"), typ, "sequence", {"sequence": {"start": start, "step": step}})

    def choice_col(self, t: Table, name: str | None) -> Col:
        typ = self.pick(["string", "string", "int", "bool", "float"])
        if typ == "string":
            n = self.d(st.integers(1, 8))
            choices: list[Any] = self.d(
                st.lists(st.sampled_from(WORDS + ODD_WORDS), min_size=n, max_size=n, unique=True)
            )
        elif typ == "int":
            choices = self.d(st.lists(st.integers(-50, 50), min_size=1, max_size=6, unique=True))
        elif typ == "float":
            choices = self.d(st.lists(st.sampled_from([0.5, 1.25, 2.0, -3.5, 10.0]), min_size=1, unique=True))
        else:
            choices = self.d(st.lists(st.booleans(), min_size=1, max_size=2, unique=True))
        spec: dict[str, Any] = {"choices": choices}
        how = self.pick(["none", "weights", "weights", "uniform", "zipf", "head_tail"])
        if how == "weights":
            spec["weights"] = self.weights(len(choices), zeros=True)
        elif how == "uniform":
            spec["weights_kind"] = "uniform"
        elif how == "zipf":
            spec["weights_kind"] = f"zipf@{self.num(0.3, 2.0, 1)}"
        elif how == "head_tail":
            spec["weights_kind"] = f"head_tail@{{{self.num(0.1, 0.9, 2)},{self.num(0.5, 2.0, 1)}}}"
        col = Col(name or self.name(t, "ch"), typ, "choice", {"choice": spec})
        col.choices = choices  # type: ignore[attr-defined]
        return col

    def choice_ref_col(self, t: Table, name: str | None) -> Col | None:
        sources = [
            (s, c)
            for s in self.tables
            for c in s.cols
            if not c.nullable and s.nonempty and c.type in ("string", "int")
        ]
        if not sources:
            return None
        s, c = self.pick(sources)
        spec: dict[str, Any] = {"choices_ref": f"{s.id}.{c.name}"}
        how = self.pick(["none", "uniform", "zipf", "head_tail"])
        if how == "uniform":
            spec["weights_kind"] = "uniform"
        elif how == "zipf":
            spec["weights_kind"] = f"zipf@{self.num(0.5, 1.8, 1)}"
        elif how == "head_tail":
            spec["weights_kind"] = f"head_tail@{{{self.num(0.2, 0.9, 2)},{self.num(0.5, 2.0, 1)}}}"
        col = Col(name or self.name(t, "ref"), c.type, "choice", {"choice": spec})
        col.ref = f"{s.id}.{c.name}"  # type: ignore[attr-defined]
        return col

    def effect_ids(self) -> set[str]:
        return {e.id for e in self.effect_tables}

    def distribution_col(self, t: Table, name: str | None, law: dict[str, Any] | None = None) -> Col:
        typ = self.pick(["int", "float"])
        if law is None:
            kind = self.pick(["normal", "lognormal", "uniform", "poisson"])
            clamp: list[float] | None = None
            if kind == "normal":
                mean, std = self.num(-50, 200, 1), self.pick([0.0, 0.5, 3.0, self.num(0.1, 30, 1)])
                params = {"mean": mean, "std": std}
                if self.flag(0.6):
                    clamp = [mean - 2 * std - 1, mean + 2 * std + 1]
            elif kind == "lognormal":
                mean, sigma = self.num(0, 4, 2), self.num(0, 1, 2)
                params = {"mean": mean, "sigma": sigma}
                if self.flag(0.6):
                    clamp = [0.5, round(math.exp(mean + 2 * sigma) + 1, 2)]
            elif kind == "uniform":
                low = self.num(-100, 100, 1)
                params = {"low": low, "high": round(low + self.pick([0.0, 1.0, self.num(0.5, 500, 1)]), 1)}
                if typ == "int":
                    params = {"low": math.floor(params["low"]), "high": math.floor(params["high"])}
                if self.flag(0.3):
                    clamp = [params["low"], params["high"]]
            else:
                lam = self.num(0, 20, 2)
                params = {"lambda": lam}
                if self.flag(0.6):
                    clamp = [self.d(st.integers(0, 1)), math.ceil(lam * 2) + 3]
            if clamp is not None and typ == "int":
                clamp = [math.ceil(clamp[0]), math.floor(clamp[1])]
                if clamp[0] > clamp[1]:
                    clamp = [clamp[1], clamp[1]]
            spec: dict[str, Any] = {"type": kind, "params": params}
            if clamp is not None:
                spec["clamp"] = [round(x, 2) for x in clamp]
            law = {"distribution": spec}
        spec = law["distribution"]
        bounds = None
        if "clamp" in spec:
            bounds = tuple(spec["clamp"])
        elif spec["type"] == "uniform":
            bounds = (spec["params"]["low"], spec["params"]["high"])
        if bounds is not None and typ == "int":
            bounds = (math.ceil(bounds[0] - 1e-9), math.floor(bounds[1] + 1e-9))
        return Col(name or self.name(t, "x"), typ, "distribution", law, bounds=bounds)  # type: ignore[arg-type]

    def span(self) -> tuple[dict[str, Any] | str, tuple[datetime, datetime]]:
        if self.flag(0.5):
            return "timeframe", self.timeframe
        start = datetime(2020, 1, 1) + timedelta(
            days=self.d(st.integers(0, 1500)), hours=self.pick([0, 0, 7])
        )
        end = start + timedelta(days=self.d(st.integers(1, 500)), hours=self.pick([0, 23]))
        return {"start": start.strftime(FMT) + "Z", "end": end.strftime(FMT) + "Z"}, (start, end)

    def datetime_col(
        self, t: Table, name: str | None, spec: dict[str, Any] | None = None, typ: str | None = None
    ) -> Col:
        typ = typ or self.pick(["datetime", "datetime", "date"])
        if spec is None:
            within, span = self.span()
            days = (span[1] - span[0]).days
            freqs = ["H", "h", "D", "2H", "30min", "6H"] if typ == "datetime" else ["D", "H"]
            if days >= 14:
                freqs.append("W")
            if days >= 70:
                freqs += ["MS", "M"]
            if days <= 40 and typ == "datetime":
                freqs += ["T", "15min", "S"] if days <= 3 else ["T", "15min"]
            spec = {"within": within}
            if within != "timeframe" or self.flag(0.7):
                spec["freq"] = self.pick(freqs)
            elif days < 14:
                spec["freq"] = "D"
            dims = self.d(st.lists(st.sampled_from(list(DIMS)), max_size=3, unique=True))
            pats = [{"dimension": dim, "weights": self.weights(DIMS[dim], zeros=dim == "dow" and days >= 14
                                                               and spec.get("freq", "D") not in ("W", "MS", "M"))}
                    for dim in dims]  # fmt: skip
            if len(pats) == 1 and self.flag(0.7):
                spec["pattern"] = pats[0]
            elif pats:
                spec["patterns"] = pats
            spec = {"datetime_series": spec}
        else:
            span = self.timeframe
        col = Col(name or self.name(t, "ts"), typ, "datetime_series", spec, span=span)
        return col

    def faker_col(self, t: Table, name: str | None) -> Col:
        method = self.pick(FAKER_METHODS)
        spec: dict[str, Any] = {"method": method}
        how = self.pick(["none", "locale", "locale_from"])
        if how == "locale":
            spec["locale"] = self.pick(LOCALES + ["US", "DE"])
        elif how == "locale_from":
            country = next((c for c in t.cols if c.name.startswith("country")), None)
            if country is None:
                country = Col(self.name(t, "country"), "string", "choice",
                              {"choice": {"choices": self.d(st.lists(st.sampled_from(COUNTRIES), min_size=1,
                                                                     max_size=5, unique=True))}})  # fmt: skip
                self.add(t, country)
            spec["locale_from"] = country.name
        col = Col(name or self.name(t, method), "string", "faker", {"faker": spec})
        if method == "uuid4":
            self.constraints["unique"].append(f"{t.id}.{col.name}")
            self.constraints["pattern"].append({"attr": f"{t.id}.{col.name}", "regex": UUID_RE})
        if method == "email":
            if self.flag(0.5):
                self.constraints["pattern"].append({"attr": f"{t.id}.{col.name}", "regex": EMAIL_RE})
            if self.flag(0.3) and t.kind == "entity":
                self.constraints["unique"].append(f"{t.id}.{col.name}")
        return col

    def lookup_col(self, t: Table, name: str | None) -> Col | None:
        """A random row of another table, or the spawning row of the primary parent."""
        parents = t.node.get("parents", [])
        sources = [s for s in self.tables if s.nonempty]
        if not sources:
            return None
        s = self.pick(sources)
        c = self.pick(s.cols)
        typ = c.type
        conv = {"int": ["float", "string"], "float": ["int", "string"], "bool": ["int", "string"],
                "date": ["datetime", "string"], "datetime": ["date"], "string": []}[c.type]  # fmt: skip
        if conv and self.flag(0.2):
            typ = self.pick(conv)
        col = Col(name or self.name(t, "lk"), typ, "lookup", {"lookup": {"from": f"{s.id}.{c.name}"}},
                  nullable=c.nullable)  # fmt: skip
        if c.pk and typ == c.type:
            col.key_of = s.id
            self.constraints["foreign_keys"].append({"from": f"{t.id}.{col.name}", "to": f"{s.id}.{c.name}"})
        if parents and s.id == parents[0]:
            col.spawned = True  # type: ignore[attr-defined]
        return col

    def on_lookup_col(self, t: Table, name: str | None) -> Col | None:
        """A join: the row holds a key of ``s`` (a lookup of its pk), the value comes by ``on``.

        The target may be an expression over a distribution (``p.price = round(raw, 2)``)."""
        sources = [
            s for s in self.tables if s.pk is not None and s.nonempty and s.id not in self.effect_ids()
        ]
        if not sources:
            return None
        s = self.pick(sources)
        keys = [c for c in t.cols if c.key_of == s.id and not c.nullable and not c.pk]
        if keys and self.flag(0.7):
            key = self.pick(keys)
        else:
            key = self.add(t, self.fk_lookup(t, s, name=self.pick(["pid", s.pk.name, "key"])))  # type: ignore[union-attr]
        if self.flag(0.3) and s.kind != "vocab":
            # the issue-13 shape: a column of s that is an expression over a distribution
            raw = self.distribution_col(s, self.name(s, "raw"))
            self.add(s, raw)
            price = Col(self.name(s, "price"), "float", "expression",
                        {"expression": {"code": f"round({raw.name}, 2)"}})  # fmt: skip
            self.add(s, price)
            target = price
        else:
            candidates = [c for c in s.cols if c is not s.pk]
            if not candidates:
                return None
            target = self.pick(candidates)
        pk = s.pk
        assert pk is not None
        on = {"this_key": pk.name} if key.name == pk.name and self.flag(0.6) else {key.name: pk.name}
        return Col(name or self.name(t, "val"), target.type, "lookup",
                   {"lookup": {"from": f"{s.id}.{target.name}", "on": on}}, nullable=target.nullable)  # fmt: skip

    def self_ref_col(self, t: Table, name: str | None) -> Col | None:
        """``manager_id`` → own pk (an earlier row; the root is NULL when nullable)."""
        if t.kind == "vocab":
            return None
        if self.flag(0.7):
            pk = t.pk
            assert pk is not None
            nullable = self.flag(0.7)
            col = Col(name or self.name(t, "boss"), "int", "lookup", {"lookup": {"from": f"{t.id}.{pk.name}"}},
                      nullable=nullable, key_of=t.id)  # fmt: skip
            self.constraints["foreign_keys"].append({"from": f"{t.id}.{col.name}", "to": f"{t.id}.{pk.name}"})
            return col
        others = [c for c in t.cols if not c.pk and c.kind in ("distribution", "choice", "sequence", "faker")]
        if not others:
            return None
        c = self.pick(others)
        return Col(name or self.name(t, "prev"), c.type, "lookup", {"lookup": {"from": f"{t.id}.{c.name}"}},
                   nullable=True)  # fmt: skip

    def expression_col(self, t: Table, name: str | None) -> Col | None:
        nums = [c for c in t.cols if c.type in ("int", "float") and not c.nullable]
        if not nums:
            if self.flag(0.5):
                return None
            nums = [self.add(t, self.distribution_col(t, None))]
        a = self.pick(nums).name
        b = self.pick(nums).name
        forms = [
            ("float", f"{a} * 2 + 1"), ("float", f"round({a} + {b}, 2)"), ("float", f"abs({a} - {b})"),
            ("float", f"greatest({a}, {b})"), ("float", f"least({a}, 0)"), ("float", f"sqrt(abs({a}))"),
            ("float", f"ln(1 + abs({a}))"), ("float", f"log(2 + abs({b}))"), ("float", f"pow({a}, 2)"),
            ("int", f"floor({a} / 3)"), ("int", f"ceil({a})"), ("float", f"exp(least({a}, 5))"),
            ("float", f"coalesce({a}, 0) - {b}"), ("int", f"round({a} * {b})"), ("bool", f"{a} > {b}"),
            ("bool", f"{a} <= 10 and not {b} = 3"), ("float", f"({a} + 1) % 7"), ("float", f"-{a} / 4"),
        ]  # fmt: skip
        typ, code = self.pick(forms)
        if typ == "float" and self.flag(0.2):
            typ = "int"
        return Col(name or self.name(t, "expr"), typ, "expression", {"expression": {"code": code}})

    # -- modifiers ------------------------------------------------------------
    def modifiers(self, t: Table, c: Col) -> None:
        if not self.flag(0.35) or c.kind == "enum_list":
            return
        mods: list[dict[str, Any]] = []
        for _ in range(self.d(st.integers(1, 3))):
            m = self.modifier(t, c)
            if m is not None:
                mods.append(m)
        if mods:
            c.json["modifiers"] = mods  # type: ignore[attr-defined]
            c.modified = True

    def modifier(self, t: Table, c: Col) -> dict[str, Any] | None:
        if c.type in ("int", "float"):
            kinds = ["multiply", "add", "clamp", "jitter", "jitter", "outliers", "outliers", "map_values"]
            kinds += ["trend", "trend", "seasonality", "seasonality"]
            if self.effect_tables:
                kinds += ["effect", "effect", "effect"]
        elif c.type == "datetime" and c.kind == "datetime_series":
            kinds = ["time_jitter", "seasonality"]
        elif c.type == "datetime":
            kinds = ["time_jitter"]
        elif c.type == "string":
            kinds = ["map_values"]
        else:
            return None
        kind = self.pick(kinds)
        if kind in ("trend", "seasonality", "effect") and t.first_datetime(c.name) is None and self.flag(0.6):
            self.add(t, self.datetime_col(t, None, typ="datetime"))  # something for the modifier to read
        if kind == "multiply":
            return {"transform": "multiply", "args": {"factor": self.num(0.1, 3.0)}}
        if kind == "add":
            return {"transform": "add", "args": {"value": self.num(-20, 20)}}
        if kind == "clamp":
            lo, hi = sorted([self.num(-50, 100, 1), self.num(-50, 500, 1)])
            args = self.pick([{"min": lo}, {"max": hi}, {"min": lo, "max": hi}])
            return {"transform": "clamp", "args": args}
        if kind == "jitter":
            args = {"std": self.num(0, 2)}
            if self.flag(0.5):
                args["mode"] = self.pick(["add", "mul"])  # type: ignore[assignment]
            return {"transform": "jitter", "args": args}
        if kind == "outliers":
            args = {"rate": self.num(0, 0.2, 3)}
            if self.flag(0.5):
                args["mode"] = self.pick(["spike", "drop"])  # type: ignore[assignment]
            if self.flag(0.4):
                args["magnitude_dist"] = self.pick(
                    [  # type: ignore[assignment]
                        {"type": "uniform", "params": {"low": 0.5, "high": 2.0}},
                        {"type": "lognormal", "params": {"mean": 1.0, "sigma": 0.4}},
                        {"type": "normal", "params": {"mean": 2, "std": 0.5}, "clamp": [0.5, 4]},
                        {"type": "poisson", "params": {"lambda": 3}},
                    ]
                )
            return {"transform": "outliers", "args": args}
        if kind == "map_values":
            if c.type == "string":
                src = list(getattr(c, "choices", [])) or ["alpha", "nothing"]
                mapping: dict[str, Any] = {str(self.pick(src)): self.pick(WORDS + ODD_WORDS)}
                if c.nullable and self.flag(0.3):
                    mapping[str(self.pick(src))] = None
            else:
                mapping = {str(self.d(st.integers(-5, 20))): self.d(st.integers(-100, 100))}
                if c.type == "float" and self.flag(0.5):
                    mapping = {"1.0": 2.5}
            return {"transform": "map_values", "args": {"mapping": mapping}}
        if kind == "trend":
            times = [x for x in t.cols if x.type in ("datetime", "date") and x is not c]
            ref = self.pick(times) if times and self.flag(0.6) else None
            if ref is None and t.first_datetime(c.name) is None:
                return None
            args: dict[str, Any] = {"type": self.pick(["exponential", "linear", "logarithmic"])}
            if self.flag(0.8):
                args["growth_rate"] = self.num(-0.3, 0.5)
            if args["type"] == "logarithmic" and self.flag(0.5):
                args["params"] = {"a": self.num(0, 0.5), "b": self.num(0.1, 2)}
            if ref is not None:
                args["time_reference"] = ref.name
            return {"transform": "trend", "args": args}
        if kind == "seasonality":
            dim = self.pick(list(DIMS))
            args = {"dimension": dim, "weights": self.weights(DIMS[dim])}
            if c.type in ("int", "float"):
                times = [x for x in t.cols if x.type in ("datetime", "date")]
                if times and self.flag(0.5):
                    args["column"] = self.pick(times).name
                elif t.first_datetime(c.name) is None:
                    return None
            return {"transform": "seasonality", "args": args}
        if kind == "time_jitter":
            return {"transform": "time_jitter", "args": {"std_minutes": self.num(0, 60)}}
        return self.effect_mod(t, t, table_level=False, column=c)

    def effect_mod(
        self, t: Table, local: Table, table_level: bool, column: Col | None = None
    ) -> dict[str, Any] | None:
        fx = self.pick(self.effect_tables)
        args: dict[str, Any] = {"effect_table": fx.id}
        on: dict[str, str] = {}
        if any(c.name == "k" for c in fx.cols):
            target = fx.col("k").key_of
            keys = [c for c in local.cols if c.key_of == target and not c.nullable]
            if keys and self.flag(0.8):
                on = {self.pick(keys).name: "k"}
        if on or self.flag(0.5):
            args["on"] = on
        if self.flag(0.7):
            has_time = (
                (local.first_datetime(column.name if column else "") is not None) if not table_level else True
            )
            times = [x for x in local.cols if x.type in ("datetime", "date") and x is not column]
            if not table_level and times and self.flag(0.3):
                args["time_column"] = self.pick(times).name
                has_time = True
            if has_time:
                args["window"] = {"start_col": "start_at", "end_col": "end_at"}
        op = self.pick(["mul", "add"])
        emap: dict[str, Any] = {"field": "factor"}
        if op != "mul" or self.flag(0.5):
            emap["op"] = op
        if self.flag(0.6):
            emap["default"] = 1.0 if op == "mul" else 0.0
        args["map"] = emap
        return {"transform": "effect", "args": args}

    # -- per-column extras: nullability, constraints ------------------------------
    def column_extras(self, t: Table, c: Col) -> None:
        j = c.json  # type: ignore[attr-defined]
        readers = self.read_elsewhere(t, c)
        if c.kind == "lookup" and c.nullable:
            j["nullable"] = True
        elif (
            not c.pk
            and c.key_of is None
            and not readers
            and c.kind in ("choice", "distribution", "faker", "sequence", "expression")
            and self.flag(0.2)
        ):
            j["nullable"] = True
            c.nullable = True
            if self.flag(0.8):
                j["null_rate"] = self.num(0, 0.3)
        if c.kind == "choice" and "choices" in c.spec["choice"] and c.type == "string" and not c.modified:
            choices = c.spec["choice"]["choices"]
            where = self.pick(["top", "column", "none"])
            if where == "top":
                self.constraints["enum"].append({"attr": f"{t.id}.{c.name}", "values": choices})
            elif where == "column":
                j["constraints"] = {"enum": choices}
            if all(x.isalnum() for x in choices) and self.flag(0.3):
                regex = "^(" + "|".join(choices) + ")$"
                if self.flag(0.5):
                    self.constraints["pattern"].append({"attr": f"{t.id}.{c.name}", "regex": regex})
                else:
                    j.setdefault("constraints", {})["pattern"] = regex
        if c.kind == "choice" and "choices_ref" in c.spec["choice"] and not c.modified and self.flag(0.4):
            ref = c.spec["choice"]["choices_ref"]
            if self.flag(0.5):
                self.constraints["enum"].append({"attr": f"{t.id}.{c.name}", "enum_ref": ref})
            else:
                j["constraints"] = {"enum_ref": ref}
        if c.kind == "faker" and c.spec["faker"]["method"] in ("city", "word") and self.flag(0.2):
            j["constraints"] = {"pattern": ".+"}
        if self.flag(0.15):
            j["comment"] = "drawn"

    def read_elsewhere(self, t: Table, c: Col) -> bool:
        """Whether another column reads ``c`` (then it stays non-nullable)."""
        for s in self.tables + [t]:
            for x in s.node["columns"]:
                gen = x["generator"]
                text = str(gen) + str(x.get("modifiers", ""))
                if x is c.json:  # type: ignore[attr-defined]
                    continue
                if f"{t.id}.{c.name}'" in text or (s is t and c.name in text):
                    return True
        return False

    # -- inequalities ---------------------------------------------------------------
    def inequalities(self, t: Table) -> None:
        """Inequalities between same-typed numeric or datetime columns of ``t``, oriented along one
        order of the columns (never a contradiction), pairs preflight could not call impossible."""
        if t.kind == "vocab" or not self.flag(0.4):
            return
        if self.flag(0.5):
            # a cluster of like columns (start < end, lo <= mid < hi)
            n = self.d(st.integers(2, 3))
            if self.flag(0.5):
                base = self.datetime_col(t, None)
                cols = [self.add(t, Col(self.name(t, "when"), base.type, "datetime_series",
                                        base.spec, span=base.span)) for _ in range(n)]  # fmt: skip
            else:
                base = self.distribution_col(t, None)
                cols = [self.add(t, Col(self.name(t, "lvl"), base.type, "distribution", base.spec,
                                        bounds=base.bounds)) for _ in range(n)]  # fmt: skip
        else:
            eligible = [
                c for c in t.cols
                if c.kind in ("distribution", "datetime_series", "expression") and not c.nullable
                and c.type in ("int", "float", "date", "datetime") and not c.grouped
            ]  # fmt: skip
            by_type: dict[str, list[Col]] = {}
            for c in eligible:
                by_type.setdefault(c.type, []).append(c)
            pools = [v for v in by_type.values() if len(v) >= 2]
            if not pools:
                return
            cols = self.d(st.permutations(self.pick(pools)))[:3]
        order = list(cols)
        pairs = list(zip(order, order[1:], strict=False))
        if len(order) == 3 and self.flag(0.3):
            pairs.append((order[0], order[2]))
        added = False
        for lo, hi in pairs:
            if not self.possible(lo, hi):
                continue
            op = self.pick(["<", "<=", ">", ">="])
            left, right = (lo, hi) if op in ("<", "<=") else (hi, lo)
            self.constraints["inequalities"].append({"left": f"{t.id}.{left.name}", "op": op,
                                                     "right": f"{t.id}.{right.name}"})  # fmt: skip
            lo.grouped = hi.grouped = added = True
            self.meta.grouped |= {f"{t.id}.{lo.name}", f"{t.id}.{hi.name}"}
        if not added:
            return

    @staticmethod
    def possible(lo: Col, hi: Col) -> bool:
        """Not refused by preflight's range test (it sees clamps, uniform bounds and spans)."""

        def rng(c: Col) -> tuple[float, float] | None:
            if c.modified:
                return None
            if c.kind == "distribution":
                spec = c.spec["distribution"]
                if "clamp" in spec:
                    return tuple(spec["clamp"])  # type: ignore[return-value]
                if spec["type"] == "uniform":
                    return spec["params"]["low"], spec["params"]["high"]
                return None
            if c.kind == "datetime_series" and c.span:
                return c.span[0].timestamp(), c.span[1].timestamp()
            return None

        a, b = rng(lo), rng(hi)
        return a is None or b is None or a[0] < b[1]

    # -- constraints and targets that look at whole tables ----------------------------
    def late_constraints(self) -> None:
        for t in self.tables:
            if t.pk is not None and self.flag(0.5):
                self.constraints["unique"].append(f"{t.id}.{t.pk.name}")
            for c in t.cols:
                if c.grouped or c.modified or c.kind != "distribution" or c.bounds is None:
                    continue
                if self.flag(0.5):
                    lo, hi = c.bounds
                    self.constraints["ranges"].append(self.pick([
                        {"attr": f"{t.id}.{c.name}", "min": lo, "max": hi},
                        {"attr": f"{t.id}.{c.name}", "min": lo},
                        {"attr": f"{t.id}.{c.name}", "max": hi},
                    ]))  # fmt: skip

    def late_targets(self) -> None:
        for t in self.tables:
            dt = [c for c in t.cols if c.type in ("datetime", "date") and c.kind == "datetime_series"]
            if dt and self.flag(0.3):
                c = self.pick(dt)
                self.targets["weekend_share"].append(
                    {"table": t.id, "timestamp": c.name, **self.pick([{}, {"min": 0.0, "max": 1.0}])}
                )
            means = [c for c in t.cols if c.kind == "distribution" and c.bounds and not c.grouped
                     and not c.modified and not c.nullable]  # fmt: skip
            if means and self.flag(0.3):
                c = self.pick(means)
                lo, hi = c.bounds  # type: ignore[misc]
                self.targets["mean_in_range"].append({"table": t.id, "column": c.name, "min": lo, "max": hi})
            seasonal = [
                (c, m) for c in t.cols for m in c.json.get("modifiers", [])  # type: ignore[attr-defined]
                if m["transform"] == "seasonality"
            ]  # fmt: skip
            if seasonal and self.flag(0.5):
                c, m = self.pick(seasonal)
                influence = {"kind": "seasonality", "dimension": m["args"]["dimension"],
                             "weights": m["args"]["weights"]}  # fmt: skip
                target: dict[str, Any] = {
                    "table": t.id,
                    "metric": "volume" if c.type == "datetime" else c.name,
                    "influences": [influence],
                    "tolerance": {"mae": 10.0, "mape": 10.0},
                }
                if c.type == "datetime":
                    target["timestamp"] = c.name
                    influence["column"] = c.name
                elif "column" in m["args"]:
                    influence["column"] = m["args"]["column"]
                self.targets["composite_effect"].append(target)


@st.composite
def schemas(draw: Any) -> tuple[dict[str, Any], Meta]:
    """A valid schema and what the grammar knows about it."""
    return Builder(draw).schema()
