"""Charts drawn on the server: scales and ticks, and the SVG each macro writes (a title, a
description, a summary, the table behind it, no style anywhere: the CSP allows none)."""
import re

import pytest
from flask import render_template_string

from crm.reports import charts

MACRO = '{% from "macros/charts.html" import chart %}{{ chart(c) }}'


def test_ticks_are_round_and_cover_the_maximum():
    assert charts.nice_ticks(87) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(3) == [0, 1, 2, 3]
    assert charts.nice_ticks(0.8) == [0, 0.2, 0.4, 0.6, 0.8]
    assert charts.nice_ticks(0) == [0, 1]
    assert charts.nice_ticks(12_345) == [0, 2500, 5000, 7500, 10000, 12500]
    assert charts.scale(50, 100, 200) == 100 and charts.scale(5, 0, 200) == 0
    assert charts.short_number(1200) == "1.2k" and charts.short_number(3_000_000) == "3M"
    assert charts.percent_change(112, 100) == 12 and charts.percent_change(5, 0) is None


def render(app, chart):
    with app.test_request_context():
        return render_template_string(MACRO, c=chart)


def grouped():
    return charts.grouped_chart("Revenue by month", "Bars per month", "Revenue is up 12 %.",
                                ["Jan", "Feb", "Mar"], [100, 250, 90], [80, 300, 0],
                                names=("2026", "2025"))


CHARTS = {
    "bar": lambda: charts.bar_chart("Owed by age", "A bar per bucket", "All current.",
                                    [("Now", 5), ("1–30", 3)]),
    "hbar": lambda: charts.hbar_chart("By product", "A bar per product", "Peas first.",
                                      [("Pea shoots", 40), ("Radish", 20)],
                                      links=["/a", None]),
    "grouped": grouped,
    "line": lambda: charts.line_chart("Trend", "A line per year", "Up.", ["Jan", "Feb"],
                                      {"2026": [1, 2], "2025": [2, 1]}),
    "stacked": lambda: charts.stacked_chart("Status", "Shares", "Half active.",
                                            [("Active", 2), ("Lead", 1), ("Churned", 1)]),
}


@pytest.mark.parametrize("kind", CHARTS)
def test_every_chart_is_an_accessible_image_with_its_table_and_no_style(app, kind):
    chart = CHARTS[kind]()
    html = render(app, chart)
    assert 'role="img"' in html and f"<title id=\"{chart.id}-title\">{chart.title}</title>" in html
    assert f'<desc id="{chart.id}-desc">' in html and 'viewBox="0 0 360' in html
    assert chart.summary in html
    assert "style=" not in html and "<style" not in html and "<script" not in html
    # the table behind the chart: on demand in <details>, and again for print
    assert html.count("<details") == 1 and html.count('class="chart-table"') == 2
    body = re.search(r"<details.*?</details>", html, re.S).group(0)
    assert body.count("<tr>") == len(chart.rows) + 1  # the header and a row per item


def test_two_series_differ_by_pattern_not_colour_alone(app):
    html = render(app, grouped())
    chart_id = re.search(r'id="(chart-\d+)-title"', html).group(1)
    assert f'fill="url(#{chart_id}-hatch)"' in html  # last year hatched
    assert "2026" in html and "2025" in html  # a legend names both
    assert "<title>Feb, 2025: 300</title>" in html  # each bar says what it is


def test_bars_are_scaled_to_the_ticks(app):
    chart = charts.bar_chart("T", "D", "S", [("a", 50), ("b", 100)], height=228)
    assert [t["label"] for t in chart.ticks] == ["0", "20", "40", "60", "80", "100"]
    heights = [b["h"] for b in chart.bars]
    assert heights[1] == 228 - charts.TOP - charts.BOTTOM and heights[0] == heights[1] / 2
    hbar = render(app, CHARTS["hbar"]())
    assert '<a href="/a">Pea shoots</a>' in hbar  # a row with a list behind it links there


def test_a_chart_with_nothing_to_draw_says_so(app):
    html = render(app, charts.hbar_chart("By product", "A bar per product",
                                         "Nothing was invoiced this month.", []))
    assert "<svg" not in html and "Nothing was invoiced this month." in html
