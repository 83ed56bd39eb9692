"""A small bar chart drawn as SVG on the server: no script, no external service, the same bytes every time.

The chart is an image to assistive technology (``role="img"`` with an ``aria-label``), carries a
``<title>`` and a ``<desc>`` that reads out every value, and gives each bar its own ``<title>`` (shown as
a tooltip) and ``data-`` attributes naming its series, label and value. Every piece of text is escaped.
"""

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Two colours that stay apart for the common colour-vision deficiencies (blue and orange).
PALETTE = ("#1f6fb4", "#e07b00", "#5b8c2a", "#8e44ad")

_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 40, 44
_TICKS = 4


def _num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros: stable output across platforms."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def nice_step(largest: int, ticks: int = _TICKS) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... that divides ``largest`` into at most ``ticks`` steps."""
    raw = max(1, math.ceil(largest / ticks))
    magnitude = 10 ** (len(str(raw)) - 1)
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude  # not reached: raw < 10 * magnitude


def _check_series(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> None:
    """Raise ``ValueError`` unless there are one to ``len(PALETTE)`` series, each with one non-negative value
    per label."""
    if not series:
        raise ValueError("A chart needs at least one series.")
    if len(series) > len(PALETTE):
        raise ValueError(f"At most {len(PALETTE)} series.")
    for name, values in series:
        if len(values) != len(labels):
            raise ValueError(f"Series {name!r} has {len(values)} values for {len(labels)} labels.")
        if any(value < 0 for value in values):
            raise ValueError(f"Series {name!r} has a negative value.")


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    y_label: str = "",
    long_labels: Sequence[str] | None = None,
    chart_id: str = "chart",
    width: int = 720,
    height: int = 300,
) -> SafeString:
    """Grouped bars: one group per label (months, say), one bar per series in each group, with a y axis
    of whole numbers, the labels under the groups and a legend above.

    ``series`` is ``[(name, values), ...]`` with one value per label (non-negative integers).
    ``long_labels`` are the labels as read out (``"January"`` for ``"Jan"``); ``chart_id`` prefixes the
    element ids, so that two charts on one page stay apart. Pure: the same arguments give the same text.
    """
    _check_series(labels, series)
    long_labels = list(long_labels) if long_labels is not None else list(labels)
    ident = escape(chart_id)

    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    largest = max((value for _name, values in series for value in values), default=0)
    step = nice_step(largest)
    y_max = step * max(1, math.ceil(largest / step))
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.8 / len(series)
    baseline = _TOP + plot_h

    def y_of(value: float) -> float:
        return baseline - plot_h * value / y_max

    summary = "; ".join(
        f"{name}: " + ", ".join(f"{label} {value}" for label, value in zip(long_labels, values, strict=True))
        for name, values in series
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" id="{ident}" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" aria-label="{escape(title)}"'
        f' aria-describedby="{ident}-desc" font-family="sans-serif" font-size="12">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(summary)}</desc>',
        '<g class="y-axis" fill="currentColor" text-anchor="end">',
    ]
    for tick in range(0, y_max + 1, step):
        y = _num(y_of(tick))
        out.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y}" y2="{y}" stroke="#999" stroke-opacity="0.4"/>'
            f'<text x="{_LEFT - 6}" y="{y}" dy="0.32em">{tick}</text>'
        )
    if y_label:
        mid = _num(_TOP + plot_h / 2)
        out.append(
            f'<text class="axis-label" x="14" y="{mid}" text-anchor="middle"'
            f' transform="rotate(-90 14 {mid})">{escape(y_label)}</text>'
        )
    out.append("</g>")
    out.append(
        f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{baseline}" y2="{baseline}" stroke="currentColor"/>'
    )
    out.append('<g class="x-axis" fill="currentColor" text-anchor="middle">')
    for index, label in enumerate(labels):
        label_x = _num(_LEFT + group_w * (index + 0.5))
        out.append(f'<text x="{label_x}" y="{baseline + 18}">{escape(label)}</text>')
    out.append("</g>")
    for number, (name, values) in enumerate(series):
        colour = PALETTE[number]
        out.append(f'<g class="series" data-series="{escape(name)}" fill="{colour}">')
        for index, value in enumerate(values):
            x = _LEFT + group_w * index + group_w * 0.1 + bar_w * number
            top = y_of(value)
            out.append(
                f'<rect x="{_num(x)}" y="{_num(top)}" width="{_num(bar_w)}" height="{_num(baseline - top)}"'
                f' data-label="{escape(labels[index])}" data-value="{value}">'
                f"<title>{escape(name)}, {escape(long_labels[index])}: {value}</title></rect>"
            )
        out.append("</g>")
    out.append('<g class="legend" fill="currentColor">')
    x = _LEFT
    for number, (name, _values) in enumerate(series):
        out.append(
            f'<rect x="{x}" y="12" width="12" height="12" fill="{PALETTE[number]}"/>'
            f'<text x="{x + 18}" y="22">{escape(name)}</text>'
        )
        x += 18 + 8 * len(name) + 24  # room for the name at this font size
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308 -- every piece of text above is escaped
