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
