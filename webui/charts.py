"""Charts as server-side SVG: no script, no CDN, no ``style=""`` (the strict CSP), every element a link.

Two shapes serve the start page (:mod:`webui.dashboard`):

* :func:`columns` — stacked columns (one per month, one segment per series);
* :func:`bars` — horizontal bars in groups (one group per customer field value, one bar per series).

Each element is an ``<a href>`` (its own accessible name in ``aria-label``, a ``<title>`` tooltip)
to the search or list it counts; the ``<svg>`` is named by its ``<title>`` and described by its ``<desc>``
(``aria-labelledby``, ``aria-describedby``).  Its role is ``group``, not ``img``: an ``img`` hides its
children from assistive technology, and the links inside must stay reachable (axe: nested-interactive).
Texts are escaped here; colours are presentation attributes (``fill=``), not styles.  The caller
gives the words (already in the request's language) and the links.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

__all__ = ["PALETTE", "Bar", "Column", "Group", "Segment", "bars", "columns"]

#: Series colours, dark enough for white text nearby and distinct for the common colour blindnesses.
PALETTE = (
    "#1f5fa8",
    "#c0611b",
    "#2e7d32",
    "#8e3b9e",
    "#b3261e",
    "#00796b",
    "#6d5d00",
    "#4a4a8c",
    "#7a4b2a",
    "#555555",
)

_FONT = "font-family=\"system-ui, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif\""


@dataclass(frozen=True)
class Segment:
    """One part of a column: its value, the series (colour) index, a label for screen readers and tooltips, a link."""

    value: float
    series: int
    label: str
    href: str


@dataclass(frozen=True)
class Column:
    """One column (a month): its axis label, the shown total and its segments bottom up."""

    label: str
    total_text: str
    segments: Sequence[Segment] = field(default_factory=tuple)


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: value, series index, the text after it, a label for screen readers, a link."""

    value: float
    series: int
    text: str
    label: str
    href: str


@dataclass(frozen=True)
class Group:
    """Bars under one label (a customer type, a stage …)."""

    label: str
    bars: Sequence[Bar]


def _colour(series: int) -> str:
    return PALETTE[series % len(PALETTE)]


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" role="group" '
        f'aria-labelledby="{cid}-title" aria-describedby="{cid}-desc" {_FONT}>',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def _clip(text: str, units: int) -> str:
    """``text`` cut to ``units`` half-width places (a CJK or other wide character takes two), with "…" when cut."""

    def width(ch: str) -> int:
        return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1

    if sum(width(ch) for ch in text) <= units:
        return text
    out, used = "", 0
    for ch in text:
        if used + width(ch) > units - 1:
            break
        out, used = out + ch, used + width(ch)
    return out + "…"


def columns(chart_id: str, cols: Sequence[Column], *, title: str, desc: str) -> Markup:
    """Stacked columns, left to right; the tallest total fills the height."""
    width, height = 720, 260
    left, right, top, bottom = 8, 8, 22, 34
    plot_h = height - top - bottom
    slot = (width - left - right) / max(1, len(cols))
    bar_w = min(40.0, slot * 0.7)
    biggest = max((sum(s.value for s in c.segments) for c in cols), default=0.0) or 1.0
    out = _open(chart_id, width, height, title, desc)
    base = top + plot_h
    out.append(
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" stroke="#767676" stroke-width="1"/>'
    )
    for i, col in enumerate(cols):
        x = left + i * slot + (slot - bar_w) / 2
        y = float(base)
        for seg in col.segments:
            if seg.value <= 0:
                continue
            h = max(1.0, seg.value / biggest * plot_h)
            y -= h
            out.append(
                f'<a href="{escape(seg.href)}" aria-label="{escape(seg.label)}">'
                f'<rect class="chart-el" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{_colour(seg.series)}"><title>{escape(seg.label)}</title></rect></a>'
            )
        cx = left + i * slot + slot / 2
        if col.segments:
            out.append(
                f'<text x="{cx:.1f}" y="{y - 5:.1f}" text-anchor="middle" font-size="12" fill="#1a1a1a">'
                f"{escape(col.total_text)}</text>"
            )
        out.append(
            f'<text x="{cx:.1f}" y="{base + 18}" text-anchor="middle" font-size="12" fill="#333333">'
            f"{escape(col.label)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def bars(chart_id: str, groups: Sequence[Group], *, title: str, desc: str) -> Markup:
    """Horizontal bars in groups, top to bottom; the longest bar fills the width left for bars."""
    width = 360  # about the width of a start-page column: the text draws near its own size
    label_w, text_w, right = 110, 70, 4
    bar_h, gap, group_gap, top = 18, 4, 12, 6
    rows = sum(len(g.bars) for g in groups)
    height = top * 2 + rows * (bar_h + gap) + max(0, len(groups) - 1) * group_gap
    plot_w = width - label_w - text_w - right
    biggest = max((b.value for g in groups for b in g.bars), default=0.0) or 1.0
    out = _open(chart_id, width, height, title, desc)
    y = float(top)
    for group in groups:
        group_h = len(group.bars) * (bar_h + gap) - gap
        out.append(
            f'<text x="{label_w - 8}" y="{y + group_h / 2 + 5:.1f}" text-anchor="end" font-size="13" fill="#1a1a1a">'
            f"<title>{escape(group.label)}</title>{escape(_clip(group.label, 16))}</text>"
        )
        for bar in group.bars:
            w = bar.value / biggest * plot_w if bar.value > 0 else 0.0
            shown = max(w, 2.0)  # a zero still shows (and links): a sliver
            out.append(
                f'<a href="{escape(bar.href)}" aria-label="{escape(bar.label)}">'
                f'<rect class="chart-el" x="{label_w}" y="{y:.1f}" width="{shown:.1f}" height="{bar_h}" '
                f'fill="{_colour(bar.series)}"><title>{escape(bar.label)}</title></rect></a>'
                f'<text x="{label_w + shown + 6:.1f}" y="{y + bar_h - 4:.1f}" font-size="12" fill="#1a1a1a">'
                f"{escape(bar.text)}</text>"
            )
            y += bar_h + gap
        y += group_gap
    out.append("</svg>")
    return Markup("".join(out))
