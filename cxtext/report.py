"""A self-contained HTML report of a dump: inline CSS and SVG charts, no
script and no network needed to open it; Persian and Arabic quotes are set
right-to-left with their evidence highlighted; readable on a phone.

``ReportCollector.add`` sees every enriched chunk (bounded memory: counts per
day and per segment only); ``write`` renders it with the run's summary.
"""
from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Sequence

import pandas as pd

DATE_COLUMN_CANDIDATES = ("date", "created_at", "created", "timestamp", "time", "datetime", "submitted_at",
                          "تاریخ", "التاريخ")
SENT_COLORS = {"negative": "#d64545", "neutral": "#9aa5b1", "positive": "#2f9e6e", "mixed": "#e0a030"}
EMO_COLORS = {"anger": "#d64545", "disgust": "#8e6cc0", "fear": "#4f5d75", "joy": "#2f9e6e", "sadness": "#3d6fb6",
              "surprise": "#e0a030", "neutral": "#9aa5b1"}
PALETTE = ["#3d6fb6", "#e07b39", "#2f9e6e", "#d64545", "#8e6cc0", "#c9a227", "#4fa3b8", "#b5568d", "#7a8b3a", "#666"]
MAX_SEGMENTS = 30


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


class ReportCollector:
    """Accumulates what the report needs beyond the summary."""

    def __init__(self, date_column: Optional[str] = None, segment_column: Optional[str] = None):
        self.date_column = date_column
        self.segment_column = segment_column
        self._date_checked = False
        self.by_day: dict[str, Counter] = defaultdict(Counter)
        self.by_segment: dict[str, Counter] = defaultdict(Counter)
        self.segment_aspects: dict[str, Counter] = defaultdict(Counter)

    def add(self, df: pd.DataFrame, analyses: Sequence[Any]) -> None:
        if not self._date_checked:
            self._date_checked = True
            if self.date_column is None:
                lower = {str(c).lower(): c for c in df.columns}
                self.date_column = next((lower[c] for c in DATE_COLUMN_CANDIDATES if c in lower), None)
            if self.segment_column is not None and self.segment_column not in df.columns:
                from .errors import ColumnNotFoundError

                raise ColumnNotFoundError(f"segment column {self.segment_column!r} not in the input; "
                                          f"columns are {list(df.columns)}")
        days = None
        if self.date_column is not None and self.date_column in df.columns:
            parsed = pd.to_datetime(df[self.date_column], errors="coerce", utc=True)
            days = [d.strftime("%Y-%m-%d") if not pd.isna(d) else None for d in parsed]
        segs = df[self.segment_column].astype(str).tolist() if self.segment_column else None
        for i, a in enumerate(analyses):
            if a.error or a.cx is None:
                continue
            if days is not None and days[i]:
                c = self.by_day[days[i]]
                c["n"] += 1
                c[a.sentiment.label] += 1
                c[a.cx.nps_class] += 1
            if segs is not None:
                s = segs[i]
                if s not in self.by_segment and len(self.by_segment) >= MAX_SEGMENTS:
                    s = "(other)"
                c = self.by_segment[s]
                c["n"] += 1
                c[a.cx.nps_class] += 1
                c["csat_hit"] += a.cx.csat >= 4
                c["effort_high"] += a.cx.effort == "high"
                for asp in a.aspects:
                    if asp.sentiment == "negative":
                        self.segment_aspects[s][asp.name] += 1

    def write(self, path: str | Path, summary: dict[str, Any], title: str = "Customer feedback report") -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(render(summary, self, title), encoding="utf-8")
        return p


def _bars(items: list[tuple[str, float, str]], fmt: str = "{:.0f}", width: int = 420) -> str:
    """Horizontal bar chart as inline SVG: (label, value, color)."""
    if not items:
        return '<p class="muted">no data</p>'
    top = max(v for _, v, _ in items) or 1
    row = 26
    h = row * len(items) + 8
    lab_w = 120
    parts = [f'<svg class="chart" viewBox="0 0 {width} {h}" style="max-width:{width}px" role="img" '
             'preserveAspectRatio="xMinYMin meet">']
    for i, (label, v, color) in enumerate(items):
        y = 4 + i * row
        w = max(1.0, (width - lab_w - 70) * v / top)
        parts.append(f'<text x="{lab_w - 8}" y="{y + 16}" text-anchor="end" class="lab">{_esc(label)}</text>'
                     f'<rect x="{lab_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" rx="3" fill="{color}"/>'
                     f'<text x="{lab_w + w + 6:.1f}" y="{y + 16}" class="val">{_esc(fmt.format(v))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _stacked(rows: list[tuple[str, dict[str, int]]], keys: Sequence[str], colors: dict[str, str], width: int = 480) -> str:
    """100%-stacked horizontal bars (aspect × sentiment)."""
    if not rows:
        return '<p class="muted">no aspects found</p>'
    row = 26
    lab_w = 150
    h = row * len(rows) + 30
    parts = [f'<svg class="chart" viewBox="0 0 {width} {h}" style="max-width:{width}px" role="img" '
             'preserveAspectRatio="xMinYMin meet">']
    span = width - lab_w - 50
    for i, (label, counts) in enumerate(rows):
        y = 4 + i * row
        total = sum(counts.get(k, 0) for k in keys) or 1
        x = float(lab_w)
        parts.append(f'<text x="{lab_w - 8}" y="{y + 16}" text-anchor="end" class="lab">{_esc(label)}</text>')
        for k in keys:
            w = span * counts.get(k, 0) / total
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colors[k]}">'
                             f'<title>{_esc(k)}: {counts.get(k, 0)}</title></rect>')
                x += w
        parts.append(f'<text x="{lab_w + span + 6}" y="{y + 16}" class="val">{total}</text>')
    ly = h - 12
    lx = lab_w
    for k in keys:
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{colors[k]}"/>'
                     f'<text x="{lx + 14}" y="{ly}" class="val">{_esc(k)}</text>')
        lx += 90
    parts.append("</svg>")
    return "".join(parts)


def _trend(by_day: dict[str, Counter], width: int = 420, height: int = 160) -> str:
    """Daily volume bars with the share of negative feedback as a line."""
    if len(by_day) < 2:
        return ""
    unit = "day"
    if len(by_day) > 31:  # a long span reads better by week (ISO week, keyed by its Monday)
        weekly: dict[str, Counter] = defaultdict(Counter)
        for d, c in by_day.items():
            day = datetime.strptime(d, "%Y-%m-%d")
            monday = day.toordinal() - day.weekday()
            weekly[datetime.fromordinal(monday).strftime("%Y-%m-%d")].update(c)
        by_day, unit = weekly, "week"
    days = sorted(by_day)
    n = len(days)
    top = max(c["n"] for c in by_day.values()) or 1
    bw = (width - 40) / n
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + 24}" style="max-width:{width}px" role="img">']
    pts = []
    for i, d in enumerate(days):
        c = by_day[d]
        x = 30 + i * bw
        bh = (height - 20) * c["n"] / top
        parts.append(f'<rect x="{x:.1f}" y="{height - bh:.1f}" width="{max(bw - 2, 1):.1f}" height="{bh:.1f}" '
                     f'fill="#c8d6ea"><title>{d}: {c["n"]} texts, {c["negative"]} negative</title></rect>')
        share = c["negative"] / c["n"] if c["n"] else 0
        pts.append(f"{x + bw / 2:.1f},{height - (height - 20) * share:.1f}")
    parts.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{SENT_COLORS["negative"]}" stroke-width="2"/>')
    parts.append(f'<text x="30" y="{height + 18}" class="val">{_esc(days[0])}</text>'
                 f'<text x="{width - 10}" y="{height + 18}" text-anchor="end" class="val">{_esc(days[-1])}</text>')
    parts.append("</svg>")
    return (f"<p class='muted'>bars: texts per {unit}; red line: share negative</p>" + "".join(parts))


def _quote_html(q: dict[str, Any]) -> str:
    t = q["text"]
    s, e = q["evidence_start"], q["evidence_end"]
    rtl = q.get("lang") in ("fa", "ar")
    body = (("…" if q.get("prefix_cut") else "") + _esc(t[:s]) + "<mark>" + _esc(t[s:e]) + "</mark>" + _esc(t[e:])
            + ("…" if q.get("suffix_cut") else ""))
    return (f'<blockquote dir="{"rtl" if rtl else "ltr"}" lang="{_esc(q.get("lang") or "und")}" '
            f'class="{"rtl" if rtl else "ltr"}">{body}<cite dir="ltr">{_esc(q.get("id") or "")}</cite></blockquote>')


# svg.chart: width 100% shrinks a chart on a phone; each svg's inline max-width (its
# drawing's width) keeps a full-width section from blowing it, and its text, up
# .grid2: columns only, no row gap: its sections keep their own margin (stacked on a phone)
CSS = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Tahoma,"Noto Sans Arabic","Vazirmatn",sans-serif;
margin:0;background:#f5f7fa;color:#1f2933;line-height:1.5}
header{background:#1f3b63;color:#fff;padding:20px 16px}header h1{margin:0;font-size:1.4rem}
main{max-width:980px;margin:0 auto;padding:16px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin-bottom:16px}
.tile{background:#fff;border-radius:10px;padding:14px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.tile .v{font-size:1.7rem;font-weight:700}.tile .k{color:#52606d;font-size:.85rem}
section{background:#fff;border-radius:10px;padding:16px;margin-bottom:16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:1.1rem;margin:0 0 10px}.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:0 16px}
svg.chart{width:100%;height:auto}.lab{font-size:13px;fill:#323f4b}.val{font-size:12px;fill:#52606d}
blockquote{margin:8px 0;padding:8px 12px;background:#f8f9fb;border-inline-start:4px solid #d64545;border-radius:4px}
blockquote.rtl{text-align:right}blockquote cite{display:block;font-size:.75rem;color:#7b8794;font-style:normal}
mark{background:#ffe08a;padding:0 2px;border-radius:2px}.muted{color:#7b8794;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{padding:6px;border-bottom:1px solid #e4e7eb;text-align:start}
.driver h3{font-size:1rem;margin:12px 0 4px}
"""


def _title_html(title: str) -> str:
    """The title's parts (``Customer feedback report — <file name>``) each
    isolated, so a Persian or Arabic file name keeps its own direction."""
    return " — ".join(f"<bdi>{_esc(p)}</bdi>" for p in title.split(" — "))


def render(summary: dict[str, Any], collector: Optional[ReportCollector] = None, title: str = "Customer feedback report") -> str:
    s = summary
    n = s.get("analyzed") or 0

    def pct(x: Optional[float]) -> str:
        return "–" if x is None else f"{100 * x:.0f}%"

    tiles = [
        ("texts analyzed", f"{n:,}", f"{s.get('errors', 0)} not analyzable"),
        ("NPS proxy", "–" if s.get("nps_proxy") is None else f"{s['nps_proxy']:+.0f}", "% promoters − % detractors"),
        ("CSAT proxy", pct(s.get("csat_proxy")), "estimated CSAT 4–5"),
        ("high effort", pct(s.get("high_effort_share")), "of feedback"),
        ("churn risk", pct(s.get("churn_risk_high_share")), "risk ≥ 0.5"),
    ]
    tiles_html = "".join(f'<div class="tile"><div class="k">{_esc(k)}</div><div class="v">{_esc(v)}</div>'
                         f'<div class="k">{_esc(sub)}</div></div>' for k, v, sub in tiles)
    sent = [(k, v["count"], SENT_COLORS.get(k, "#888")) for k, v in s.get("sentiment", {}).items()]
    emo = sorted(((k, v["count"], EMO_COLORS.get(k, "#888")) for k, v in s.get("emotion", {}).items()),
                 key=lambda r: -r[1])
    asp_rows = [(name.replace("_", " "), a["sentiment"]) for name, a in s.get("aspects", {}).items()]
    journey = [(k.replace("_", " "), v["count"], PALETTE[i]) for i, (k, v) in enumerate(s.get("journey_stages", {}).items())]
    drivers = s.get("detractor_drivers", [])[:5]
    drivers_html = ""
    for d in drivers:
        lift = f", lift ×{d['lift']}" if d.get("lift") else ""
        drivers_html += (f'<div class="driver"><h3>{_esc(d["aspect"].replace("_", " "))} — '
                         f'{100 * d["share_of_detractors"]:.0f}% of detractors{_esc(lift)}</h3>'
                         + "".join(_quote_html(q) for q in d.get("quotes", [])) + "</div>")
    if not drivers_html:
        drivers_html = '<p class="muted">no detractor mentions an aspect negatively</p>'
    trend = _trend(collector.by_day) if collector else ""
    seg_html = ""
    if collector and collector.by_segment:
        rows = []
        for seg, c in sorted(collector.by_segment.items(), key=lambda kv: -kv[1]["n"]):
            m = c["n"] or 1
            top = collector.segment_aspects[seg].most_common(1)
            rows.append(f"<tr><td dir='auto'>{_esc(seg)}</td><td>{c['n']}</td>"
                        f"<td>{100 * (c['promoter'] - c['detractor']) / m:+.0f}</td><td>{100 * c['csat_hit'] / m:.0f}%</td>"
                        f"<td>{100 * c['effort_high'] / m:.0f}%</td><td>{_esc(top[0][0].replace('_', ' ')) if top else '–'}</td></tr>")
        seg_html = (f"<section><h2>By {_esc(collector.segment_column)}</h2><table><tr><th>segment</th><th>texts</th>"
                    "<th>NPS proxy</th><th>CSAT proxy</th><th>high effort</th><th>top negative aspect</th></tr>"
                    + "".join(rows) + "</table></section>")
    langs = ", ".join(f"{_esc(k)}: {v}" for k, v in s.get("languages", {}).items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(title)}</title><style>{CSS}</style></head>
<body><header><h1>{_title_html(title)}</h1><div>{n:,} texts · {langs} · generated {datetime.now().strftime('%Y-%m-%d %H:%M')} by cxtext</div></header>
<main>
<div class="tiles">{tiles_html}</div>
<div class="grid2"><section><h2>Sentiment</h2>{_bars(sent)}</section><section><h2>Emotion</h2>{_bars(emo)}</section></div>
<section><h2>Aspects × sentiment</h2>{_stacked(asp_rows, ("negative", "neutral", "positive"), SENT_COLORS)}</section>
<div class="grid2"><section><h2>Journey stage</h2>{_bars(journey)}</section>
<section><h2>Trend</h2>{trend or '<p class="muted">no date column in the dump</p>'}</section></div>
<section><h2>What drives detractors</h2>{drivers_html}</section>
{seg_html}
<p class="muted">NPS proxy = % promoters − % detractors of the estimated NPS class; CSAT proxy = share of texts
with estimated CSAT 4–5; see the README for how each signal is derived.</p>
</main></body></html>"""
