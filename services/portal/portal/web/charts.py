"""The statistics charts' geometry, drawn as inline SVG by templates/portal/charts.html.

Pure arithmetic (no Flask): bars in a fixed view box that the page scales to its width. Colours
are SVG presentation attributes, allowed by a style policy without `unsafe-inline`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 640, 280
TOP, BOTTOM, LEFT, RIGHT = 20, 48, 44, 8
TICKS = 4


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # what a pointer's tooltip (SVG <title>) says


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Group:
    x: float  # centre of the group's label
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    groups: list[Group]
    series: list[Series]
    baseline: float
    left: int
    right: int


MONTH_SERIES = (
    Series("received", "Tiếp nhận", "#1d4ed8"),
    Series("resolved", "Đã giải quyết", "#9b1c1c"),
)
TIMELINESS_SERIES = (
    Series("resolved_early", "Trước hạn", "#15803d"),
    Series("resolved_on_time", "Đúng hạn", "#1d4ed8"),
    Series("resolved_late", "Trễ hạn", "#b91c1c"),
)


def nice_ceiling(value: int) -> int:
    """The smallest round top of the axis (1, 2, 5 × 10ⁿ, at least TICKS) holding `value`."""
    if value <= TICKS:
        return TICKS
    step = value / TICKS
    magnitude = 10 ** math.floor(math.log10(step))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= step:
            return int(factor * magnitude * TICKS)
    return int(10 * magnitude * TICKS)  # pragma: no cover - the loop ends at 10


def month_label(month: str) -> str:
    """ "2026-03" as the axis shows it: "T3/26"."""
    return f"T{int(month[5:7])}/{month[2:4]}"


def month_bars(by_month: list[tuple[str, dict[str, Any]]]) -> BarChart:
    """Received and resolved side by side, one group per month."""
    top = nice_ceiling(max([int(s[k.key]) for _, s in by_month for k in MONTH_SERIES] or [0]))
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(by_month))
    bar_width = min(24.0, slot * 0.8 / len(MONTH_SERIES))
    bars, groups = [], []
    for index, (month, summary) in enumerate(by_month):
        centre = LEFT + slot * (index + 0.5)
        start = centre - bar_width * len(MONTH_SERIES) / 2
        for position, series in enumerate(MONTH_SERIES):
            value = int(summary[series.key])
            height = plot_height * value / top
            bars.append(
                Bar(
                    x=round(start + position * bar_width, 2),
                    y=round(baseline - height, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    colour=series.colour,
                    label=f"{month_label(month)}: {series.label.lower()} {value}",
                )
            )
        groups.append(Group(x=round(centre, 2), label=month_label(month)))
    ticks = [
        Tick(y=round(baseline - plot_height * n / TICKS, 2), value=top * n // TICKS) for n in range(TICKS + 1)
    ]
    return BarChart(WIDTH, HEIGHT, bars, ticks, groups, list(MONTH_SERIES), baseline, LEFT, WIDTH - RIGHT)


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    colour: str
    label: str
    share: float  # percent


@dataclass(frozen=True)
class ShareChart:
    width: int
    height: int
    segments: list[Segment]
    series: list[Series]
    total: int


SHARE_HEIGHT = 72


def timeliness_share(summary: dict[str, Any]) -> ShareChart:
    """One bar split by the share of dossiers resolved early, on time and late."""
    total = sum(int(summary[s.key]) for s in TIMELINESS_SERIES)
    segments, x = [], 0.0
    for series in TIMELINESS_SERIES:
        value = int(summary[series.key])
        share = 100 * value / total if total else 0.0
        width = WIDTH * value / total if total else 0.0
        if value:
            segments.append(
                Segment(
                    x=round(x, 2),
                    width=round(width, 2),
                    colour=series.colour,
                    label=f"{series.label}: {value} ({percent(share)})",
                    share=round(share, 1),
                )
            )
        x += width
    return ShareChart(WIDTH, SHARE_HEIGHT, segments, list(TIMELINESS_SERIES), total)


def percent(value: float | None) -> str:
    """A percentage the Vietnamese way ("97,5 %"); "–" without a base."""
    if value is None:
        return "–"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + " %"
