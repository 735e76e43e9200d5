"""Sections of the report and their rendering as one self-contained HTML page."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    """A PNG written beside index.html (path relative to the report folder)."""

    path: str
    caption: str


@dataclass
class Section:
    """One finding: the claim, the experiment's figures, and the numbers measured."""

    key: str
    title: str
    claim: str
    figures: list[Figure] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)  # every number the page shows
    findings: list[str] = field(default_factory=list)  # sentences with the measured numbers
    table: list[dict[str, Any]] = field(default_factory=list)  # optional rows to show
    seconds: float = 0.0
    # "reproduced", "partly" or "not at this scale", and one sentence saying why
    verdict: str = ""
    verdict_note: str = ""
    references: list[str] = field(default_factory=list)  # the papers the section follows
    alt: list[str] = field(default_factory=list)  # one short description per figure
    notes: list[str] = field(default_factory=list)  # definitions and set-up, shown as text


VERDICTS = ("reproduced", "partly", "not at this scale")


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 62rem;
       margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.5; }
h1 { font-size: 1.9rem; margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
.claim { font-size: 1.08rem; background: #f4f7fb; border-left: 4px solid #3a6ea5;
         padding: 0.6rem 0.9rem; }
figure { margin: 1rem 0; text-align: center; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #555; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f0f0f0; }
.meta { color: #666; font-size: 0.9rem; }
ul.findings li { margin: 0.25rem 0; }
@media print { body { max-width: none; } h2 { page-break-before: auto; } }
"""


def per_label(text: str, values: dict[str, Any], spec: str = "") -> str:
    """A finding listing one value per label: ``"text: GD 0.5, Adam 0.01."`` (each value
    formatted with ``spec``)."""
    return f"{text}: " + ", ".join(f"{k} {v:{spec}}" for k, v in values.items()) + "."


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(r.get(c, ''))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(sections: list[Section], meta: dict[str, Any]) -> str:
    """The whole page; figures are referenced by relative path, nothing is fetched."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>saddlepoint: why optimization fails, measured</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Why optimization fails, measured on this machine</h1>",
        f"<p class='meta'>saddlepoint {html.escape(str(meta.get('version', '')))} · "
        f"{html.escape(str(meta.get('platform', '')))} · {html.escape(str(meta.get('when', '')))}"
        f" · {'quick' if meta.get('quick') else 'full'} run in {meta.get('seconds', 0):.0f} s. "
        "Every number on this page is in summary.json beside it.</p>",
        "<ol>"
        + "".join(f"<li><a href='#{s.key}'>{html.escape(s.title)}</a></li>" for s in sections)
        + "</ol>",
    ]
    for s in sections:
        parts.append(f"<section id='{s.key}'><h2>{html.escape(s.title)}</h2>")
        parts.append(f"<p class='claim'>{html.escape(s.claim)}</p>")
        for fig in s.figures:
            parts.append(
                f"<figure><img src='{html.escape(fig.path)}' alt='{html.escape(fig.caption)}'>"
                f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
            )
        if s.findings:
            parts.append(
                "<ul class='findings'>"
                + "".join(f"<li>{html.escape(f)}</li>" for f in s.findings)
                + "</ul>"
            )
        parts.append(_table(s.table))
        parts.append(f"<p class='meta'>section computed in {s.seconds:.1f} s</p></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(out: Path, sections: list[Section], meta: dict[str, Any]) -> Path:
    """index.html and summary.json into ``out``; returns the page's path."""
    page = out / "index.html"
    page.write_text(render(sections, meta), encoding="utf-8")
    summary = {
        "meta": meta,
        "sections": {
            s.key: {
                "title": s.title,
                "claim": s.claim,
                "numbers": s.numbers,
                "findings": s.findings,
                "table": s.table,
                "figures": [f.path for f in s.figures],
                "seconds": s.seconds,
                "verdict": s.verdict,
                "verdict_note": s.verdict_note,
                "references": s.references,
                "notes": s.notes,
            }
            for s in sections
        },
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=_json_default))
    return page


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
