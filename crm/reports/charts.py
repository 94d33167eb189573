"""Charts drawn on the server as SVG: the geometry is worked out here (scales, ticks, bars,
points) and crm/templates/macros/charts.html writes it out. No JavaScript, no <style> and no
style attributes (the CSP's style-src 'self'): colours are presentation attributes (fill,
stroke) and the sizes come from the viewBox, so a chart scales to its box (width 100 %) from a
phone to a printed page. Every chart has a title, a description, a one-sentence summary and the
table of the numbers it is drawn from (crm.reports.charts.Chart.table).

pygal was the first choice but is not installed here (and puts a <style> inside its SVG); these
few shapes are enough for the dashboard.
"""
import math
from dataclasses import dataclass, field
from itertools import count

WIDTH = 360  # the viewBox width: about the width a phone gives a widget, so text stays ~12 px
FONT = 13
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 10, 26  # plot margins: tick labels left, labels below
SERIES = ("this", "last")  # two series are told apart by fill *and* pattern, and the legend
_ids = count(1)


def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^n; no 2.5 below 10, where the values are often
    counts) giving about `ticks` intervals over `span`."""
    if span <= 0:
        return 1
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10) if power >= 10 else (1, 2, 5, 10):
        if raw <= multiple * power:
            return round(multiple * power, 10)
    return 10 * power  # pragma: no cover - the loop always returns


def nice_ticks(maximum: float, ticks: int = 5) -> list[float]:
    """0, step, 2 step, … up to the first tick at or above `maximum` (at least 0 and one step):
    nice_ticks(87) -> [0, 20, 40, 60, 80, 100]."""
    step = nice_step(maximum, ticks)
    top = max(step, math.ceil(maximum / step) * step) if maximum > 0 else step
    n = round(top / step)
    return [round(i * step, 10) for i in range(n + 1)]


def scale(value: float, top: float, length: float) -> float:
    """Where `value` lies along an axis of `length` that runs from 0 to `top`."""
    return 0 if top <= 0 else round(value / top * length, 2)


def short_number(value: float) -> str:
    """1200 -> "1.2k", 3400000 -> "3.4M", 12 -> "12" (axis labels)."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:g}"


def percent_change(now: int, before: int) -> int | None:
    """Whole per cent change from `before` to `now`; None when there was nothing before."""
    if not before:
        return None
    return round((now - before) * 100 / before)


@dataclass
class Chart:
    """What the macros draw: `kind` (bar, hbar, grouped, line, stacked), the SVG's title and
    desc, a sentence under it, the geometry, and the table behind it (`columns`, `rows` of
    already formatted cells; `links` per row where the row has a list behind it)."""

    kind: str
    title: str
    desc: str
    summary: str
    columns: list[str]
    rows: list[list[str]]
    height: int = 220
    width: int = WIDTH
    ticks: list[dict] = field(default_factory=list)  # {"pos", "label"}
    bars: list[dict] = field(default_factory=list)  # {"x", "y", "w", "h", "series", "label"}
    labels: list[dict] = field(default_factory=list)  # category labels {"x", "y", "text"}
    lines: list[dict] = field(default_factory=list)  # {"series", "points": "x,y x,y", "dots"}
    legend: list[dict] = field(default_factory=list)  # {"series", "text"}
    links: list[str | None] = field(default_factory=list)
    id: str = field(default_factory=lambda: f"chart-{next(_ids)}")

    @property
    def plot_left(self):
        return LEFT

    @property
    def plot_right(self):
        return self.width - RIGHT

    @property
    def baseline(self):
        return self.height - BOTTOM


def _value_ticks(top_value, height, fmt):
    ticks = nice_ticks(top_value)
    top = ticks[-1]
    plot = height - TOP - BOTTOM
    return top, [{"pos": round(height - BOTTOM - scale(t, top, plot), 2), "label": fmt(t)}
                 for t in ticks]


def bar_chart(title, desc, summary, items, *, fmt=short_number, cell=str, columns=None,
              links=None, height=220, axis_labels=None) -> Chart:
    """Vertical bars: `items` [(label, value)]; `axis_labels` shorter names under the bars
    (the table keeps the full ones)."""
    values = [v for _, v in items]
    top, ticks = _value_ticks(max(values, default=0), height, fmt)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(items), 1)
    bars, labels = [], []
    for i, (label, value) in enumerate(items):
        h = scale(value, top, plot_h)
        x = LEFT + i * slot + slot * 0.15
        bars.append({"x": round(x, 2), "y": round(height - BOTTOM - h, 2),
                     "w": round(slot * 0.7, 2), "h": h, "series": "this",
                     "label": f"{label}: {cell(value)}"})
        labels.append({"x": round(LEFT + (i + 0.5) * slot, 2), "y": height - BOTTOM + 17,
                       "text": axis_labels[i] if axis_labels else label})
    return Chart("bar", title, desc, summary, columns or ["", "Value"],
                 [[label, cell(value)] for label, value in items], height=height, ticks=ticks,
                 bars=bars, labels=labels, links=list(links or []))


def hbar_chart(title, desc, summary, items, *, cell=str, columns=None, links=None) -> Chart:
    """Horizontal bars, one row each, the label above its bar and the value after it (long
    names fit at phone width): `items` [(label, value)]."""
    row_h = 34
    height = max(len(items), 1) * row_h + 8
    top = max([v for _, v in items], default=0)
    length = WIDTH - 8 - 80  # room for the value after the longest bar
    bars, labels = [], []
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        w = scale(value, top, length)
        bars.append({"x": 4, "y": y + 16, "w": max(w, 1), "h": 12, "series": "this",
                     "label": f"{label}: {cell(value)}", "value": cell(value),
                     "value_x": 4 + max(w, 1) + 6})
        labels.append({"x": 4, "y": y + 12, "text": label})
    return Chart("hbar", title, desc, summary, columns or ["", "Value"],
                 [[label, cell(value)] for label, value in items], height=height,
                 bars=bars, labels=labels, links=list(links or []))


def grouped_chart(title, desc, summary, categories, this, last, *, names=("This year",
                  "Last year"), fmt=short_number, cell=str, height=230,
                  axis_labels=None) -> Chart:
    """Two bars per category (this period against the one before): `this` and `last` are
    lists of values, one per category. The second series is hatched as well as lighter.
    `axis_labels`: shorter names under the bars (the table keeps the full ones)."""
    top, ticks = _value_ticks(max([*this, *last], default=0), height, fmt)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    bar_w = slot * 0.38
    bars, labels = [], []
    for i, name in enumerate(categories):
        for j, (series, values) in enumerate(zip(SERIES, (this, last))):
            h = scale(values[i], top, plot_h)
            x = LEFT + i * slot + slot * 0.12 + j * bar_w
            bars.append({"x": round(x, 2), "y": round(height - BOTTOM - h, 2),
                         "w": round(bar_w, 2), "h": h, "series": series,
                         "label": f"{name}, {names[j].lower()}: {cell(values[i])}"})
        labels.append({"x": round(LEFT + (i + 0.5) * slot, 2), "y": height - BOTTOM + 17,
                       "text": axis_labels[i] if axis_labels else name})
    rows = [[name, cell(a), cell(b)] for name, a, b in zip(categories, this, last)]
    return Chart("grouped", title, desc, summary, ["", *names], rows, height=height,
                 ticks=ticks, bars=bars, labels=labels,
                 legend=[{"series": s, "text": n} for s, n in zip(SERIES, names)])


def line_chart(title, desc, summary, categories, series: dict, *, fmt=short_number, cell=str,
               height=220) -> Chart:
    """One line per series ({name: values}), at most two; the second is dashed with square
    markers, the first solid with round ones."""
    values = [v for vs in series.values() for v in vs]
    top, ticks = _value_ticks(max(values, default=0), height, fmt)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    step = plot_w / max(len(categories) - 1, 1)
    lines = []
    for key, (name, vs) in zip(SERIES, series.items()):
        dots = [{"x": round(LEFT + i * step, 2),
                 "y": round(height - BOTTOM - scale(v, top, plot_h), 2),
                 "label": f"{categories[i]}, {name}: {cell(v)}"} for i, v in enumerate(vs)]
        lines.append({"series": key, "name": name, "dots": dots,
                      "points": " ".join(f"{d['x']},{d['y']}" for d in dots)})
    every = max(1, math.ceil(len(categories) / 8))  # no crowded labels at phone width
    labels = [{"x": round(LEFT + i * step, 2), "y": height - BOTTOM + 17, "text": c}
              for i, c in enumerate(categories) if i % every == 0]
    names = list(series)
    rows = [[c, *(cell(series[n][i]) for n in names)] for i, c in enumerate(categories)]
    return Chart("line", title, desc, summary, ["", *names], rows, height=height, ticks=ticks,
                 labels=labels, lines=lines,
                 legend=[{"series": s, "text": n} for s, n in zip(SERIES, names)])


def stacked_chart(title, desc, summary, items, *, cell=str, columns=None, links=None) -> Chart:
    """One horizontal bar split into the shares of `items` [(label, value)], each part a
    shade of its own, labelled below with its share (never colour alone)."""
    total = sum(v for _, v in items) or 1
    x, bars, labels, rows = 4.0, [], [], []
    length = WIDTH - 8
    for i, (label, value) in enumerate(items):
        w = scale(value, total, length)
        share = round(value * 100 / total)
        bars.append({"x": round(x, 2), "y": 4, "w": w, "h": 28, "series": f"part{i % 8}",
                     "label": f"{label}: {cell(value)} ({share} %)"})
        rows.append([label, cell(value), f"{share} %"])
        x += w
    for i, (label, value) in enumerate(items):  # a legend row each: swatch, name, share
        labels.append({"x": 4, "y": 52 + i * 20, "text": f"{label} · {rows[i][2]}",
                       "series": f"part{i % 8}"})
    height = 44 + len(items) * 20 + 4
    return Chart("stacked", title, desc, summary, columns or ["", "Value", "Share"], rows,
                 height=height, bars=bars, labels=labels, links=list(links or []))
