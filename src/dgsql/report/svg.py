"""Static SVG charts, drawn in Python: no script, no font or file from anywhere else.

Every element is made by :func:`el`, which escapes each text and attribute value (MarkupSafe),
so a name or a value from the schema or the data can never become markup. Colours and strokes
come from the page's stylesheet through class names (``obs``, ``decl``, ``bound``…), which
keeps each chart small and lets the printed page restyle them.

>>> el("text", "<b>", x=1.25)
Markup('<text x="1.2">&lt;b&gt;</text>')
"""

from __future__ import annotations

import math

from markupsafe import Markup

from dgsql.report.charts import Bars, Chart, Gauge, Graph, Histogram

WIDTH = 360
HEIGHT = 180
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 34
LABEL_CHARS = 12


def _value(v: object) -> str:
    if isinstance(v, float):
        text = f"{v:.1f}"
        return "0" if text == "-0.0" else text.removesuffix(".0")
    return str(v)


def el(tag: str, *children: str, **attrs: object) -> Markup:
    """``<tag attrs>children</tag>``; plain strings among the children and every attribute
    value are escaped (``class_`` is ``class``, other underscores become dashes)."""
    text = Markup("").join(
        Markup(' {}="{}"').format(Markup(k.rstrip("_").replace("_", "-")), _value(v))
        for k, v in attrs.items()
        if v is not None
    )
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(tag), text, Markup("").join(children))


def svg(
    *children: str, width: int = WIDTH, height: int = HEIGHT, label: str = "", fixed: bool = False
) -> Markup:
    """The ``<svg>`` element: it scales to its container, or keeps its size when ``fixed``."""
    return el(
        "svg",
        *children,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {width} {height}",
        width=width if fixed else None,
        height=height if fixed else None,
        class_="chart",
        role="img",
        aria_label=label,
    )


def short(text: str, n: int = LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def number(v: float) -> str:
    """A tick label: ``1.2k``, ``0.35``, ``12``."""
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.3g}G"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a == 0 or a >= 1:
        return f"{v:.4g}"
    return f"{v:.2g}"


def percent(v: float) -> str:
    return f"{100 * v:.3g}%"


def _y_axis(top: float, fmt: object, plot_h: float) -> list[Markup]:
    out = []
    for i in range(3):
        v = top * i / 2
        y = TOP + plot_h - plot_h * i / 2
        out.append(el("line", x1=LEFT, x2=WIDTH - RIGHT, y1=y, y2=y, class_="grid"))
        out.append(el("text", fmt(v), x=LEFT - 4, y=y + 3, class_="tick", text_anchor="end"))  # type: ignore[operator]
    return out


def bars(chart: Bars) -> Markup:
    """Observed values as bars; the declared values as a dark mark across each bar."""
    n = len(chart.labels)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for v in chart.observed] + [d for d in chart.declared if d is not None]
    top = max(values + [1e-12]) * 1.08
    fmt = percent if chart.shares else number
    slot = plot_w / max(n, 1)
    gap = min(2.0, slot * 0.2)
    parts: list[Markup] = _y_axis(top, fmt, plot_h)
    step = max(1, math.ceil(n / (plot_w / 34)))
    for i, label in enumerate(chart.labels):
        x = LEFT + i * slot
        obs = chart.observed[i]
        decl = chart.declared[i] if chart.declared else None
        h = plot_h * obs / top
        tip = f"{label}: observed {fmt(obs)}" + (f", declared {fmt(decl)}" if decl is not None else "")
        parts.append(
            el(
                "rect",
                el("title", tip),
                x=x + gap / 2,
                y=TOP + plot_h - h,
                width=slot - gap,
                height=h,
                class_="obs",
            )
        )
        if decl is not None:
            y = TOP + plot_h - plot_h * decl / top
            parts.append(el("line", el("title", tip), x1=x, x2=x + slot, y1=y, y2=y, class_="decl"))
        if i % step == 0:
            parts.append(
                el(
                    "text",
                    short(label, 8 if n > 8 else LABEL_CHARS),
                    x=x + slot / 2,
                    y=HEIGHT - BOTTOM + 12,
                    class_="tick",
                    text_anchor="middle",
                )
            )
    parts.append(_legend(bool(chart.declared) and any(d is not None for d in chart.declared), "declared"))
    return svg(*parts, label=chart.title)


def _legend(declared: bool, what: str) -> Markup:
    y = HEIGHT - 8
    items = [
        el("rect", x=LEFT, y=y - 7, width=10, height=7, class_="obs"),
        el("text", "observed", x=LEFT + 13, y=y, class_="tick"),
    ]
    if declared:
        items += [
            el("line", x1=LEFT + 70, x2=LEFT + 84, y1=y - 3, y2=y - 3, class_="decl"),
            el("text", what, x=LEFT + 88, y=y, class_="tick"),
        ]
    return el("g", *items)


def histogram(chart: Histogram) -> Markup:
    """Observed counts per bin; the declared law's expected counts as a step line; vertical
    marks (clamp bounds, zero) where they fall inside the shown range."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    lo, hi = chart.edges[0], chart.edges[-1]
    span = (hi - lo) or 1.0
    values = list(chart.counts) + list(chart.expected or [])
    top = max(values + [1e-12]) * 1.08

    def xs(v: float) -> float:
        return LEFT + plot_w * (v - lo) / span

    def ys(v: float) -> float:
        return TOP + plot_h - plot_h * v / top

    parts: list[Markup] = _y_axis(top, number, plot_h)
    for i, count in enumerate(chart.counts):
        a, b = chart.edges[i], chart.edges[i + 1]
        tip = f"[{number(a)}, {number(b)}): {count:,}" + (
            f", declared {chart.expected[i]:,.1f}" if chart.expected else ""
        )
        parts.append(
            el(
                "rect",
                el("title", tip),
                x=xs(a),
                y=ys(count),
                width=max(xs(b) - xs(a) - 0.5, 0.5),
                height=TOP + plot_h - ys(count),
                class_="obs",
            )
        )
    if chart.expected:
        points = []
        for i, e in enumerate(chart.expected):
            points += [(xs(chart.edges[i]), ys(e)), (xs(chart.edges[i + 1]), ys(e))]
        parts.append(
            el("polyline", points=" ".join(f"{_value(x)},{_value(y)}" for x, y in points), class_="decl")
        )
    for value, name in chart.marks:
        if lo <= value <= hi:
            x = xs(value)
            parts.append(
                el(
                    "line",
                    el("title", f"{name} {number(value)}"),
                    x1=x,
                    x2=x,
                    y1=TOP,
                    y2=TOP + plot_h,
                    class_="bound",
                )
            )
            parts.append(el("text", name, x=x + 2, y=TOP + 8, class_="tick"))
    for v, anchor in ((lo, "start"), ((lo + hi) / 2, "middle"), (hi, "end")):
        parts.append(
            el("text", number(v), x=xs(v), y=HEIGHT - BOTTOM + 12, class_="tick", text_anchor=anchor)
        )
    parts.append(_legend(bool(chart.expected), "declared"))
    return svg(*parts, label=chart.title)


def gauge(chart: Gauge) -> Markup:
    """One observed value on a scale, the declared value as a mark."""
    height = 56
    plot_w = WIDTH - LEFT - RIGHT
    top = max(chart.scale, chart.observed, chart.declared or 0.0) or 1.0
    fmt = percent if chart.shares else number
    w = plot_w * chart.observed / top
    tip = f"observed {fmt(chart.observed)}" + (
        f", declared {fmt(chart.declared)}" if chart.declared is not None else ""
    )
    parts = [
        el("rect", x=LEFT, y=12, width=plot_w, height=16, class_="track"),
        el("rect", el("title", tip), x=LEFT, y=12, width=w, height=16, class_="obs"),
        el("text", fmt(0.0), x=LEFT, y=42, class_="tick", text_anchor="start"),
        el("text", fmt(top), x=WIDTH - RIGHT, y=42, class_="tick", text_anchor="end"),
        el("text", tip, x=LEFT + plot_w / 2, y=42, class_="tick", text_anchor="middle"),
    ]
    if chart.declared is not None:
        x = LEFT + plot_w * chart.declared / top
        parts.append(el("line", el("title", tip), x1=x, x2=x, y1=8, y2=32, class_="decl"))
    return svg(*parts, height=height, label=chart.title)


NODE_W, NODE_H, COL_GAP, ROW_GAP = 120, 24, 56, 12


def graph(chart: Graph) -> Markup:
    """The tables as boxes in columns by depth (a table right of every table it reads), edges
    from the table read to the reader, styled by the kind of read."""
    depth: dict[str, int] = {}
    incoming: dict[str, list[str]] = {n: [] for n in chart.nodes}
    for src, dst, _ in chart.edges:
        if src != dst and src in incoming and dst in incoming:
            incoming[dst].append(src)
    for n in chart.nodes:  # the nodes come in dependency order
        depth[n] = max((depth.get(s, 0) + 1 for s in incoming[n] if s in depth), default=0)
    columns: dict[int, list[str]] = {}
    for n in chart.nodes:
        columns.setdefault(depth[n], []).append(n)
    pos = {
        n: (8 + d * (NODE_W + COL_GAP), 8 + i * (NODE_H + ROW_GAP))
        for d, ns in columns.items()
        for i, n in enumerate(ns)
    }
    width = 16 + (max(columns) + 1) * (NODE_W + COL_GAP) - COL_GAP if columns else 100
    height = 16 + max((len(ns) for ns in columns.values()), default=1) * (NODE_H + ROW_GAP) - ROW_GAP
    parts: list[Markup] = [
        el(
            "defs",
            el(
                "marker",
                el("path", d="M0,0 L6,3 L0,6 z", class_="arrow"),
                id="dg-arrow",
                markerWidth=6,
                markerHeight=6,
                refX=6,
                refY=3,
                orient="auto",
            ),
        )
    ]
    for src, dst, kind in chart.edges:
        if src == dst or src not in pos or dst not in pos:
            continue
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        a = (x1 + NODE_W, y1 + NODE_H / 2)
        b = (x2, y2 + NODE_H / 2)
        if x2 <= x1:  # same column: loop around the right side
            b = (x2 + NODE_W, y2 + NODE_H / 2)
            mid = max(x1, x2) + NODE_W + COL_GAP / 2
            d = f"M{_value(a[0])},{_value(a[1])} C{_value(mid)},{_value(a[1])} {_value(mid)},{_value(b[1])} {_value(b[0])},{_value(b[1])}"
        else:
            mid = (a[0] + b[0]) / 2
            d = f"M{_value(a[0])},{_value(a[1])} C{_value(mid)},{_value(a[1])} {_value(mid)},{_value(b[1])} {_value(b[0])},{_value(b[1])}"
        parts.append(
            el(
                "path",
                el("title", f"{dst} reads {src} ({kind})"),
                d=d,
                class_=f"edge {kind}",
                marker_end="url(#dg-arrow)",
            )
        )
    for n, (x, y) in pos.items():
        parts.append(
            el(
                "g",
                el("title", f"{n}: {chart.labels.get(n, '')}"),
                el("rect", x=x, y=y, width=NODE_W, height=NODE_H, rx=4, class_="node"),
                el(
                    "text",
                    short(n, 17),
                    x=x + NODE_W / 2,
                    y=y + 16,
                    class_="node-label",
                    text_anchor="middle",
                ),
            )
        )
    return svg(*parts, width=int(width), height=int(height), label=chart.title, fixed=True)


def draw(chart: Chart) -> Markup:
    if isinstance(chart, Bars):
        return bars(chart)
    if isinstance(chart, Histogram):
        return histogram(chart)
    if isinstance(chart, Gauge):
        return gauge(chart)
    return graph(chart)
