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
    code: list[tuple[str, str]] = field(default_factory=list)  # (title, text) shown verbatim


VERDICTS = ("reproduced", "partly", "not at this scale")


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 62rem;
       margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.5; }
h1 { font-size: 1.9rem; margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
.claim { font-size: 1.08rem; background: #f4f7fb; border-left: 4px solid #3a6ea5;
         padding: 0.6rem 0.9rem; }
.verdict { font-weight: 600; }
.v-reproduced { color: #1a6b2f; } .v-partly { color: #8a5a00; }
.v-not-at-this-scale { color: #a01c1c; }
figure { margin: 1rem 0; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #444; text-align: left; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
td.text, th.text { text-align: left; }
th { background: #f0f0f0; }
.meta { color: #666; font-size: 0.9rem; }
.notes { font-size: 0.92rem; }
.refs { font-size: 0.88rem; color: #444; }
ul.findings li { margin: 0.25rem 0; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: 0.6rem; overflow-x: auto;
      font-size: 0.82rem; line-height: 1.35; white-space: pre-wrap; }
nav ol { columns: 2; }
@media (max-width: 40rem) { nav ol { columns: 1; } body { margin: 1rem auto; } }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  nav ol { columns: 2; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, table, pre, .claim, ul.findings { break-inside: avoid; page-break-inside: avoid; }
  .scroll { overflow: visible; }
  nav table { break-inside: auto; page-break-inside: auto; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def per_label(text: str, values: dict[str, Any], spec: str = "") -> str:
    """A finding listing one value per label: ``"text: GD 0.5, Adam 0.01."`` (each value
    formatted with ``spec``)."""
    return f"{text}: " + ", ".join(f"{k} {v:{spec}}" for k, v in values.items()) + "."


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(rows: list[dict[str, Any]], text_columns: tuple[str, ...] = ()) -> str:
    if not rows:
        return ""
    cols = list(rows[0])

    def is_text(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        try:
            float(v.split(" ")[0].replace(",", ""))
        except ValueError:
            return True
        return False

    # a column is text (left-aligned) when any of its values is not a number
    text = set(text_columns) | {c for c in cols if any(is_text(r.get(c)) for r in rows)}

    def cls(c: str, v: Any = None) -> str:
        return " class='text'" if c in text else ""

    head = "".join(f"<th scope='col'{cls(c)}>{html.escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>"
        + "".join(f"<td{cls(c, r.get(c))}>{_fmt(r.get(c, ''))}</td>" for c in cols)
        + "</tr>"
        for r in rows
    )
    return (
        f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        "</table></div>"
    )


LECTURE = (
    "Hung-yi Lee's Machine Learning 2021 lectures on critical points, batch and momentum, "
    "adaptive learning rate, and loss functions (National Taiwan University)"
)


def _verdict_html(verdict: str) -> str:
    if not verdict:
        return ""
    css = "v-" + verdict.replace(" ", "-")
    return f"<span class='verdict {css}'>{html.escape(verdict)}</span>"


def render(sections: list[Section], meta: dict[str, Any]) -> str:
    """The whole page; figures are referenced by relative path, nothing is fetched."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>saddlepoint: why optimization fails, measured</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>Why optimization fails, measured on this machine</h1>",
        f"<p>The claims of {html.escape(LECTURE)}, each checked by an experiment run "
        "here. A verdict says whether the numbers on this page support the claim: "
        "<em>reproduced</em>, <em>partly</em>, or <em>not at this scale</em>.</p>",
        f"<p class='meta'>saddlepoint {html.escape(str(meta.get('version', '')))} · "
        f"{html.escape(str(meta.get('cpu', '')))} · "
        f"{html.escape(str(meta.get('platform', '')))} · {html.escape(str(meta.get('when', '')))}"
        f" · {'quick' if meta.get('quick') else 'full'} run in {meta.get('seconds', 0):.0f} s, "
        f"seed {html.escape(str(meta.get('seed', '')))}"
        + (
            ", NumPy's BLAS at one thread (the batch-size timings also at two)"
            if meta.get("blas_threads") == 1
            else ""
        )
        + ". Every number on this page is in "
        "<a href='summary.json'>summary.json</a> beside it.</p></header>",
    ]
    verdicts = [
        {
            "section": f"{i}. {s.title}",
            "verdict": s.verdict or "(none)",
            "why": s.verdict_note,
        }
        for i, s in enumerate(sections, 1)
    ]
    rows = "".join(
        f"<tr><td class='text'><a href='#{s.key}'>{html.escape(v['section'])}</a></td>"
        f"<td class='text'>{_verdict_html(s.verdict)}</td>"
        f"<td class='text'>{html.escape(v['why'])}</td></tr>"
        for s, v in zip(sections, verdicts)
    )
    parts.append(
        "<nav aria-label='Contents'><h2 id='verdicts'>Verdicts</h2><div class='scroll'><table>"
        "<thead><tr><th scope='col' class='text'>claim</th><th scope='col' class='text'>verdict"
        "</th><th scope='col' class='text'>why</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></nav><main>"
    )
    for i, s in enumerate(sections, 1):
        parts.append(f"<section id='{s.key}'><h2>{i}. {html.escape(s.title)}</h2>")
        parts.append(f"<p class='claim'><strong>Claim.</strong> {html.escape(s.claim)}</p>")
        if s.verdict:
            parts.append(
                f"<p><strong>Verdict:</strong> {_verdict_html(s.verdict)}. "
                f"{html.escape(s.verdict_note)}</p>"
            )
        for k, fig in enumerate(s.figures):
            alt = s.alt[k] if k < len(s.alt) else f"Figure {i}.{k + 1}: {s.title}"
            parts.append(
                f"<figure><img src='{html.escape(fig.path)}' alt='{html.escape(alt)}'>"
                f"<figcaption><strong>Figure {i}.{k + 1}.</strong> "
                f"{html.escape(fig.caption)}</figcaption></figure>"
            )
        if s.notes:
            parts.append(
                "<div class='notes'>"
                + "".join(f"<p>{html.escape(n)}</p>" for n in s.notes)
                + "</div>"
            )
        if s.findings:
            parts.append(
                "<ul class='findings'>"
                + "".join(f"<li>{html.escape(f)}</li>" for f in s.findings)
                + "</ul>"
            )
        for title, text in s.code:
            parts.append(
                f"<p class='codetitle'><strong>{html.escape(title)}</strong></p>"
                f"<pre><code>{html.escape(text)}</code></pre>"
            )
        parts.append(_table(s.table))
        if s.references:
            parts.append(
                "<p class='refs'>Follows: "
                + "; ".join(html.escape(r) for r in s.references)
                + ".</p>"
            )
        parts.append(f"<p class='meta'>section computed in {s.seconds:.1f} s</p></section>")
    parts.append("</main></body></html>")
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
                "code": [list(c) for c in s.code],
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
