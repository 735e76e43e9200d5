"""Monitor.plot() and Monitor.report(): the run's instruments as a figure and an HTML page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

_PANELS = (
    ("loss", "loss", True),
    ("grad_norm", "gradient norm", True),
    ("cos_update", "cosine of successive updates (-1: bouncing)", False),
    ("stability_ratio", "stability ratio (1: the step at its stability limit)", False),
)


def plot(mon: Any, *, ax: Any = None) -> Any:
    """Four panels over the steps, every event marked by a labelled vertical line."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is in the test extra
        raise ImportError(
            "Monitor.plot needs matplotlib: pip install 'saddlepoint[plot]'"
        ) from exc
    c = mon.columns()
    steps = c["step"]
    if ax is None:
        fig, axes = plt.subplots(2, 2, figsize=(10, 6.4), sharex=True)
        axes = axes.ravel()
    else:
        axes = np.asarray(ax).ravel()
        fig = axes[0].figure
    for a, (col, label, log) in zip(axes, _PANELS):
        y = c[col]
        keep = np.isfinite(y)
        if col == "stability_ratio":
            a.plot(steps[keep], y[keep], "o-", ms=3)
            a.axhline(1.0, color="crimson", lw=1, ls="--")
            top = float(np.max(y[keep])) if keep.any() else 1.0
            a.set_ylim(0.0, max(1.2, 1.1 * top) if np.isfinite(top) else 1.2)
        else:
            a.plot(steps[keep], y[keep], lw=1)
        if col == "cos_update":  # a cosine: its whole range, so that -1 reads as -1
            a.set_ylim(-1.05, 1.05)
        if log and keep.any() and np.all(y[keep] > 0):
            a.set_yscale("log")
        if not keep.any():
            a.text(0.5, 0.5, "not measured", transform=a.transAxes, ha="center", color="gray")
        a.set_title(label, fontsize=10)
        for e in mon.events:
            a.axvline(e.step, color="darkorange", lw=0.8, alpha=0.8)
    for e in mon.events:
        axes[0].annotate(
            e.kind, (e.step, 1.0), xycoords=("data", "axes fraction"), rotation=90, va="top",
            ha="right", fontsize=8, color="darkorange",
        )  # fmt: skip
    for a in axes[-2:]:
        a.set_xlabel("step")
    fig.tight_layout()
    return fig


def report(mon: Any, out: Any, *, title: str | None = None) -> Path:
    """``out/index.html`` with the figure (``out/run.png``), the verdicts and a table of the
    instruments every ``window`` steps; ``out/history.csv`` with every row. Returns the page."""
    from ..report.page import _CSS, _table

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot(mon)
    fig.savefig(out / "run.png", dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    c = mon.columns()
    header = ",".join(c)
    rows = np.column_stack(list(c.values())) if c["step"].size else np.empty((0, len(c)))
    np.savetxt(out / "history.csv", rows, delimiter=",", header=header, comments="", fmt="%.10g")
    n = c["step"].size
    every = max(1, mon.window)
    picks = sorted(set(range(0, n, every)) | ({n - 1} if n else set()))
    shown = ("step", "loss", "grad_norm", "cos_update", "alpha", "improvement",
             "stability_ratio", "noise_scale")  # fmt: skip
    table = [{k: (int(c[k][i]) if k == "step" else float(c[k][i])) for k in shown} for i in picks]
    title = title or "What the monitor saw in this run"
    story = mon.explain().splitlines()
    events = (
        "".join(
            f"<li><b>step {e.step}, {html.escape(e.kind)}</b>: {html.escape(e.message)}</li>"
            for e in mon.events
        )
        or "<li>No verdict fired: nothing the monitor watches for happened.</li>"
    )
    page = "\n".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='meta'>" + html.escape(" ".join(story[:2])) + "</p>",
        "<h2>Verdicts</h2><ul class='findings'>" + events + "</ul>",
        "<h2>Instruments</h2>",
        "<figure><img src='run.png' alt='loss, gradient norm, cosine of successive updates and "
        "stability ratio over the steps'><figcaption>Loss, gradient norm, cosine between "
        "successive updates (about -1: bouncing) and stability ratio (dashed: the limit 1), "
        "measured at every step (the ratio at each curvature check); orange lines mark the "
        "verdicts.</figcaption></figure>",
        "<p>" + html.escape(story[2] if len(story) > 2 else "") + "</p>",
        _table(table),
        "<p class='meta'>Every row: history.csv beside this page.</p>",
        "</body></html>",
    ])  # fmt: skip
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
