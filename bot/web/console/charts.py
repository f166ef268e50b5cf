"""Small charts drawn on the server as inline SVG: no JavaScript library, nothing
fetched, and they pass the Content-Security-Policy (SVG attributes, no styles).

    bars([("not due", Decimal("120.00")), ("1-30", Decimal("80.00"))], money)
    share(72, "closed by the bot", "needed staff")

Bar heights are proportional to the largest value; labels and values are
escaped by ``markupsafe`` like every other text of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 520
HEIGHT = 200
PALETTE = ("#2b6cb0", "#3182ce", "#d69e2e", "#dd6b20", "#c53030", "#805ad5", "#38a169")


def bars(
    items: Sequence[tuple[str, Decimal]],
    label: Callable[[Decimal], str],
    *,
    title: str,
    colours: Sequence[str] | None = None,
) -> Markup:
    top = max((value for _, value in items), default=Decimal(0))
    count = max(len(items), 1)
    slot = WIDTH / count
    bar_width = slot * 0.6
    chart_height = HEIGHT - 50
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" y1="{chart_height + 20}" x2="{WIDTH}" y2="{chart_height + 20}" '
        'stroke="#a0aec0" stroke-width="1"/>',
    ]
    for i, (name, value) in enumerate(items):
        height = float(value / top) * (chart_height - 10) if top > 0 else 0.0
        x = i * slot + (slot - bar_width) / 2
        y = chart_height + 20 - height
        colour = (colours or PALETTE)[i % len(colours or PALETTE)]
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{height:.1f}" '
            f'fill="{colour}" rx="2"><title>{escape(name)}: {escape(label(value))}</title></rect>'
        )
        parts.append(
            f'<text x="{x + bar_width / 2:.1f}" y="{max(y - 4, 12):.1f}" text-anchor="middle" '
            f'font-size="11" fill="#1a202c">{escape(label(value))}</text>'
        )
        parts.append(
            f'<text x="{x + bar_width / 2:.1f}" y="{HEIGHT - 12}" text-anchor="middle" '
            f'font-size="12" fill="#4a5568">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def share(
    percent: Decimal | int | None,
    yes: str,
    no: str,
    *,
    title: str,
    empty: str = "no conversations yet",
) -> Markup:
    """One horizontal bar split in two: ``percent`` for ``yes``, the rest for ``no``."""
    value = float(percent or 0)
    filled = WIDTH * value / 100
    text = f"{value:.0f}% {yes}" if percent is not None else empty
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} 60" width="{WIDTH}" height="60" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
        f'<rect x="0" y="8" width="{WIDTH}" height="24" fill="#e2e8f0" rx="3">'
        f"<title>{escape(no)}</title></rect>"
        f'<rect x="0" y="8" width="{filled:.1f}" height="24" fill="#38a169" rx="3">'
        f"<title>{escape(yes)}</title></rect>"
        f'<text x="0" y="52" font-size="12" fill="#1a202c">{escape(text)}</text>'
        "</svg>"
    )
