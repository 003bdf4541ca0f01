"""A self-contained HTML page for a scenario report: key figures, charts (relative links) and tables.

No scripts, no external styles or fonts: the page opens from the report folder on any machine.
Every value is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Chart", "Section", "render_page"]


@dataclass(frozen=True)
class Chart:
    """A PNG next to the page: its file name, a title and a one-line caption."""

    file: str
    title: str
    caption: str


@dataclass(frozen=True)
class Section:
    """A titled table: a header row and rows of text cells."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    note: str = ""


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1000px;
       color: #212529; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
.verdict { padding: 0.6rem 1rem; border-radius: 6px; font-weight: 600; margin: 1rem 0; }
.ok { background: #ebfbee; color: #2b8a3e; } .bad { background: #fff5f5; color: #c92a2a; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 0.6rem; }
.figure { border: 1px solid #dee2e6; border-radius: 6px; padding: 0.6rem 0.8rem; }
.figure .label { color: #666; font-size: 0.85rem; } .figure .value { font-size: 1.15rem; font-weight: 600; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #dee2e6; }
figcaption { color: #666; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #dee2e6; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f8f9fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.85rem; }
"""


def render_page(
    *,
    title: str,
    subtitle: str,
    verdict: str,
    ok: bool,
    figures: Sequence[tuple[str, str]],
    charts: Sequence[Chart],
    sections: Sequence[Section],
    links: Mapping[str, str],
) -> str:
    """The page as a string (UTF-8 when written)."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="sub">{e(subtitle)}</p>',
        f'<div class="verdict {"ok" if ok else "bad"}">{e(verdict)}</div>',
        '<div class="figures">',
    ]
    for label, value in figures:
        parts.append(f'<div class="figure"><div class="label">{e(label)}</div><div class="value">{e(value)}</div></div>')
    parts.append("</div>")
    for chart in charts:
        parts.append(
            f'<figure><img src="{e(chart.file, quote=True)}" alt="{e(chart.title, quote=True)}">'
            f"<figcaption><strong>{e(chart.title)}.</strong> {e(chart.caption)}</figcaption></figure>"
        )
    for section in sections:
        parts.append(f"<h2>{e(section.title)}</h2>")
        if section.note:
            parts.append(f"<p>{e(section.note)}</p>")
        if not section.rows:
            parts.append("<p><em>none</em></p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in section.header) + "</tr>")
        for row in section.rows:
            cells = "".join(
                f'<td class="num">{e(c)}</td>' if _numeric(c) else f"<td>{e(c)}</td>" for c in row
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table>")
    if links:
        parts.append("<h2>Files</h2><ul>")
        for label, target in links.items():
            parts.append(f'<li><a href="{e(target, quote=True)}">{e(target)}</a>: {e(label)}</li>')
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace(".", "").replace("-", "").replace("%", "").split(" ")[0]
    return bool(stripped) and stripped.isdigit()
