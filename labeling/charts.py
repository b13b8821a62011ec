"""Charts drawn on the server as SVG geometry (no chart library, no script): the templates
only place the shapes computed here."""

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass
class Tick:
    y: float
    value: int


@dataclass
class Label:
    x: float
    text: str


@dataclass
class BarChart:
    width: int
    height: int
    top: int
    bottom: float
    left: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]
    total: int
    peak: int


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at or above value."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def throughput_chart(
    series: list[tuple[datetime, int]], *, width: int = 760, height: int = 200
) -> BarChart:
    """Bars of judgments per hour, with a y axis of round numbers and an hour label every
    few bars."""
    left, top, bottom_margin, right = 40, 10, 24, 8
    plot_width = width - left - right
    plot_height = height - top - bottom_margin
    peak = max((count for _, count in series), default=0)
    ceiling = _nice_ceiling(max(peak, 1))
    slot = plot_width / max(len(series), 1)
    bars, labels = [], []
    every = max(1, round(len(series) / 8))
    for index, (hour, count) in enumerate(series):
        bar_height = plot_height * count / ceiling
        x = left + index * slot
        bars.append(
            Bar(
                x=round(x + slot * 0.12, 2),
                y=round(top + plot_height - bar_height, 2),
                width=round(slot * 0.76, 2),
                height=round(bar_height, 2),
                value=count,
                label=f"{hour:%a %H:00}",
            )
        )
        if index % every == 0:
            labels.append(Label(x=round(x + slot / 2, 2), text=f"{hour:%H:00}"))
    values = [0, ceiling // 2, ceiling] if ceiling % 2 == 0 else [0, ceiling]
    ticks = [
        Tick(y=round(top + plot_height - plot_height * value / ceiling, 2), value=value)
        for value in values
    ]
    return BarChart(
        width=width,
        height=height,
        top=top,
        bottom=top + plot_height,
        left=left,
        bars=bars,
        ticks=ticks,
        labels=labels,
        total=sum(count for _, count in series),
        peak=peak,
    )


# One colour per error category, in taxonomy order (at most nine, one per number key), and a
# grey for "no step went wrong".
CATEGORY_COLOURS = (
    "#c0392b",
    "#d35400",
    "#f39c12",
    "#8e44ad",
    "#2980b9",
    "#16a085",
    "#27ae60",
    "#7f8c8d",
    "#2c3e50",
)
NO_ERROR_COLOUR = "#d5d8dc"


@dataclass
class Segment:
    x: float
    width: float
    count: int
    label: str
    colour: str


@dataclass
class StackedRow:
    y: float
    label: str
    total: int
    segments: list[Segment]


@dataclass
class StackedBarChart:
    width: int
    height: int
    left: int
    bar_height: int
    rows: list[StackedRow]
    legend: list[tuple[str, str]]


def stacked_bar_chart(
    groups: list[tuple[str, dict[str, int]]],
    categories: list[tuple[str, str]],
    *,
    width: int = 760,
    bar_height: int = 18,
) -> StackedBarChart:
    """Horizontal bars, one per group (a family, a policy), each split into its counts per
    category in `categories` order ((value, label); the value None is "no step went wrong"),
    every bar as long as its share of the largest group."""
    left, right, gap = 170, 60, 8
    plot_width = width - left - right
    colours = {
        value: NO_ERROR_COLOUR if value is None else CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]
        for index, (value, _) in enumerate(categories)
    }
    peak = max((sum(counts.values()) for _, counts in groups), default=0) or 1
    rows = []
    for index, (name, counts) in enumerate(groups):
        x, segments = float(left), []
        for value, label in categories:
            count = counts.get(value, 0)
            if not count:
                continue
            length = plot_width * count / peak
            segments.append(
                Segment(
                    x=round(x, 2),
                    width=round(length, 2),
                    count=count,
                    label=label,
                    colour=colours[value],
                )
            )
            x += length
        rows.append(
            StackedRow(
                y=index * (bar_height + gap),
                label=name,
                total=sum(counts.values()),
                segments=segments,
            )
        )
    return StackedBarChart(
        width=width,
        height=max(len(rows), 1) * (bar_height + gap),
        left=left,
        bar_height=bar_height,
        rows=rows,
        legend=[(label, colours[value]) for value, label in categories],
    )
