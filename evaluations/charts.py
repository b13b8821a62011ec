"""Success rates as server-drawn SVG (no chart library, no script): a bar per row from 0 to
100%, its 95% interval as a whisker. The template only places the shapes computed here."""

from dataclasses import dataclass


@dataclass
class RateBar:
    label: str
    y: float
    # The whisker's height: the middle of the bar, and its caps' ends.
    middle: float
    cap_top: float
    cap_bottom: float
    width: float
    whisker_from: float | None
    whisker_to: float | None
    text: str
    title: str


@dataclass
class Gridline:
    x: float
    text: str


@dataclass
class RateChart:
    width: int
    height: int
    left: int
    plot_width: int
    value_x: int
    top: int
    bottom: float
    row_height: int
    bar_height: int
    bars: list[RateBar]
    gridlines: list[Gridline]


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def rate_chart(
    rows: list[tuple[str, float | None, list[float] | None]],
    *,
    width: int = 760,
    label_width: int = 220,
    row_height: int = 28,
) -> RateChart:
    """One bar per (label, success rate, [low, high]) row; a row without a rate (no episode
    was played) is drawn empty and says so."""
    top, axis, right = 8, 22, 70
    plot_width = width - label_width - right
    bar_height = round(row_height * 0.6)
    bars = []
    for index, (label, rate, interval) in enumerate(rows):
        y = top + index * row_height + (row_height - bar_height) / 2
        low, high = interval if interval else (None, None)
        text = _percent(rate) if rate is not None else "no episodes"
        bars.append(
            RateBar(
                label=label if len(label) <= 32 else label[:31] + "…",
                y=round(y, 2),
                middle=round(y + bar_height / 2, 2),
                cap_top=round(y + bar_height * 0.15, 2),
                cap_bottom=round(y + bar_height * 0.85, 2),
                width=round(plot_width * (rate or 0.0), 2),
                whisker_from=None if low is None else round(label_width + plot_width * low, 2),
                whisker_to=None if high is None else round(label_width + plot_width * high, 2),
                text=text,
                title=f"{label}: {text}"
                + (f" (95% interval {_percent(low)}-{_percent(high)})" if interval else ""),
            )
        )
    bottom = top + len(rows) * row_height
    return RateChart(
        width=width,
        height=round(bottom + axis),
        left=label_width,
        plot_width=plot_width,
        value_x=label_width + plot_width + 6,
        top=top,
        bottom=bottom,
        row_height=row_height,
        bar_height=bar_height,
        bars=bars,
        gridlines=[
            Gridline(x=round(label_width + plot_width * share, 2), text=f"{round(share * 100)}%")
            for share in (0, 0.25, 0.5, 0.75, 1)
        ],
    )
