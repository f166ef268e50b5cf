"""Server-drawn SVG charts and the ageing buckets of the overview."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.web.console.charts import bars, share
from bot.web.console.queries import bucket_of


def test_bars_are_proportional_and_escaped() -> None:
    svg = str(
        bars(
            [("a<b", Decimal("50.00")), ("c", Decimal("100.00")), ("zero", Decimal("0"))],
            lambda v: f"{v:.2f}",
            title="T & C",
        )
    )
    heights = [float(part.split('"')[0]) for part in svg.split('height="')[2:]]
    assert heights[1] == 2 * heights[0]
    assert heights[2] == 0
    assert "a&lt;b" in svg
    assert "T &amp; C" in svg
    assert "<script" not in svg
    assert "style=" not in svg  # the Content-Security-Policy allows no inline style


def test_bars_with_nothing_to_show() -> None:
    svg = str(bars([("x", Decimal(0))], str, title="empty"))
    assert 'height="0.0"' in svg


def test_share_shows_the_percentage() -> None:
    assert "72% closed" in str(share(Decimal(72), "closed", "not", title="t"))
    assert "no conversations yet" in str(share(None, "closed", "not", title="t"))


def test_ageing_bucket_edges() -> None:
    due = date(2026, 3, 10)
    assert bucket_of(due, date(2026, 3, 1)) == "not due"
    assert bucket_of(due, due) == "not due"
    assert bucket_of(due, date(2026, 3, 11)) == "1-30"
    assert bucket_of(due, date(2026, 4, 9)) == "1-30"
    assert bucket_of(due, date(2026, 4, 10)) == "31-60"
    assert bucket_of(due, date(2026, 5, 9)) == "31-60"
    assert bucket_of(due, date(2026, 5, 10)) == "61-90"
    assert bucket_of(due, date(2026, 6, 8)) == "61-90"
    assert bucket_of(due, date(2026, 6, 9)) == ">90"
