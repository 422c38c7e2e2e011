"""A streaming summary of a dump: fixed memory whatever the row count.

NPS proxy = % promoters − % detractors (of ``nps_class``), as NPS is read;
CSAT proxy = share of texts whose estimated CSAT is 4 or 5, as CSAT is read;
high-effort share = share of analyzed texts with ``effort == "high"``.
Aspect drivers of detractors: for each aspect, the share of detractor texts
that mention it negatively, and its lift over non-detractor texts.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Optional

from .registry import ASPECT_SENTIMENTS, EMOTION_LABELS, SENTIMENT_LABELS
from .results import Analysis

MAX_QUOTES = 3
QUOTE_CHARS = 240


def _quote(a: Analysis, start: int, end: int) -> dict[str, Any]:
    text = a.text
    lo = max(0, start - 80)
    hi = min(len(text), end + 80)
    snippet = text[lo:hi]
    return {"id": a.id, "lang": a.lang, "text": snippet[:QUOTE_CHARS], "evidence": text[start:end],
            "evidence_start": start - lo, "evidence_end": end - lo, "prefix_cut": lo > 0, "suffix_cut": hi < len(text)}


class Summary:
    def __init__(self) -> None:
        self.rows = 0
        self.errors = 0
        self.error_kinds: Counter = Counter()
        self.langs: Counter = Counter()
        self.sentiment: Counter = Counter()
        self.emotion: Counter = Counter()
        self.nps: Counter = Counter()
        self.csat_hits = 0
        self.csat_sum = 0.0
        self.effort: Counter = Counter()
        self.loyalty: Counter = Counter()
        self.journey: Counter = Counter()
        self.churn_sum = 0.0
        self.churn_high = 0
        self.aspect_sent: dict[str, Counter] = defaultdict(Counter)
        self.aspect_quotes: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        self.det_neg_aspects: Counter = Counter()
        self.nondet_neg_aspects: Counter = Counter()
        self.det_quotes: dict[str, list] = defaultdict(list)

    @property
    def analyzed(self) -> int:
        return self.rows - self.errors

    def add(self, a: Analysis) -> None:
        self.rows += 1
        if a.error:
            self.errors += 1
            self.error_kinds[a.error.split(":")[0]] += 1
            return
        self.langs[a.lang] += 1
        if a.sentiment:
            self.sentiment[a.sentiment.label] += 1
        if a.emotion:
            self.emotion[a.emotion.label] += 1
        cx = a.cx
        if cx is not None:
            self.nps[cx.nps_class] += 1
            self.csat_hits += cx.csat >= 4
            self.csat_sum += cx.csat_score
            self.effort[cx.effort or "not_expressed"] += 1
            self.loyalty[cx.loyalty or "not_expressed"] += 1
            self.journey[cx.journey_stage or "unknown"] += 1
            self.churn_sum += cx.churn_risk
            self.churn_high += cx.churn_risk >= 0.5
        detractor = cx is not None and cx.nps_class == "detractor"
        for asp in a.aspects:
            self.aspect_sent[asp.name][asp.sentiment] += 1
            qs = self.aspect_quotes[asp.name][asp.sentiment]
            if len(qs) < MAX_QUOTES and asp.evidence:
                ev = asp.evidence[0]
                qs.append(_quote(a, ev.start, ev.end))
            if asp.sentiment == "negative":
                if detractor:
                    self.det_neg_aspects[asp.name] += 1
                    dq = self.det_quotes[asp.name]
                    if len(dq) < MAX_QUOTES and asp.evidence:
                        ev = asp.evidence[0]
                        dq.append(_quote(a, ev.start, ev.end))
                else:
                    self.nondet_neg_aspects[asp.name] += 1

    def to_dict(self) -> dict[str, Any]:
        n = max(self.analyzed, 1)

        def dist(counter: Counter, labels: Optional[tuple] = None) -> dict[str, Any]:
            keys = list(labels) if labels else sorted(counter)
            return {k: {"count": counter.get(k, 0), "share": round(counter.get(k, 0) / n, 4)} for k in keys}

        promoters, detractors = self.nps.get("promoter", 0), self.nps.get("detractor", 0)
        n_det = max(detractors, 1)
        n_nondet = max(self.analyzed - detractors, 1)
        aspects = {}
        for name, c in sorted(self.aspect_sent.items(), key=lambda kv: -sum(kv[1].values())):
            vol = sum(c.values())
            aspects[name] = {
                "volume": vol,
                "share_of_texts": round(vol / n, 4),
                "sentiment": {s: c.get(s, 0) for s in ASPECT_SENTIMENTS},
                "net_sentiment": round((c.get("positive", 0) - c.get("negative", 0)) / max(vol, 1), 4),
                "quotes": {s: q for s, q in self.aspect_quotes[name].items()},
            }
        drivers = []
        for name, cnt in self.det_neg_aspects.most_common():
            share_det = cnt / n_det
            share_other = self.nondet_neg_aspects.get(name, 0) / n_nondet
            drivers.append({"aspect": name, "detractor_mentions": cnt, "share_of_detractors": round(share_det, 4),
                            "lift": round(share_det / share_other, 2) if share_other else None,
                            "quotes": self.det_quotes.get(name, [])})
        return {
            "rows": self.rows,
            "analyzed": self.analyzed,
            "errors": self.errors,
            "error_kinds": dict(self.error_kinds),
            "languages": dict(self.langs.most_common()),
            "sentiment": dist(self.sentiment, SENTIMENT_LABELS),
            "emotion": dist(self.emotion, EMOTION_LABELS),
            "nps_proxy": round(100.0 * (promoters - detractors) / n, 1) if self.analyzed else None,
            "nps_classes": dist(self.nps, ("promoter", "passive", "detractor")),
            "csat_proxy": round(self.csat_hits / n, 4) if self.analyzed else None,
            "csat_mean": round(self.csat_sum / n, 3) if self.analyzed else None,
            "high_effort_share": round(self.effort.get("high", 0) / n, 4) if self.analyzed else None,
            "effort": dist(self.effort),
            "loyalty": dist(self.loyalty),
            "churn_risk_mean": round(self.churn_sum / n, 4) if self.analyzed else None,
            "churn_risk_high_share": round(self.churn_high / n, 4) if self.analyzed else None,
            "journey_stages": dist(self.journey),
            "aspects": aspects,
            "detractor_drivers": drivers,
            "definitions": {
                "nps_proxy": "% promoters - % detractors of nps_class (-100..100)",
                "csat_proxy": "share of texts with estimated CSAT 4 or 5",
                "high_effort_share": "share of analyzed texts with effort == high",
                "churn_risk_high_share": "share of analyzed texts with churn_risk >= 0.5",
                "lift": "share of detractors mentioning the aspect negatively / same share among other texts",
            },
        }
