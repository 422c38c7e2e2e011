"""How every CX signal is derived — the one place, mirrored by the README table.

| signal | inputs | rule |
|---|---|---|
| effort | taxonomy phrases ``effort_high`` / ``effort_low`` (+ ``effort`` head if the models have one) | high if a high-effort phrase is found (repeat contacts, transfers, repeating information, long waits); low if only low-effort phrases; else None (not expressed) |
| loyalty | phrases ``loyalty_promoter`` / ``loyalty_detractor`` / ``churn`` (+ ``loyalty`` head) | detractor if a detractor or churn phrase is found; promoter if only promoter phrases; else None |
| sentiment label | sentiment probs, clause sentiment, effort, loyalty | the head's most likely label; ``mixed`` when one clause is confidently positive and another confidently negative; a ``neutral`` text whose effort or loyalty states a side takes that side, and so does a positive or negative one the head is unsure of (top probability < 0.6) (``settle_sentiment``) |
| churn_risk | sentiment probs, anger, effort, loyalty, churn phrases | logistic: ``σ(-3 + 2.5·p_neg + 1.0·p_mixed + 1.0·p_anger + 1.0·[effort high] + 2.0·[detractor] + 3.0·[churn phrase] − 1.5·[promoter] − 1.0·p_pos)`` |
| journey_stage | phrases ``journey_*``; else the taxonomy stage of the found aspects | the stage with most evidence; ties go to the later stage (post > purchase > pre); None when nothing points to a stage |
| csat_score / csat | a ``csat`` head trained on star ratings (the defaults have one), else sentiment probs | expected stars under the head's distribution over 1–5; without the head ``1 + 4·(p_pos + 0.5·p_neutral + 0.5·p_mixed)``; ``csat`` = rounded, 1–5 |
| nps_class | loyalty, ``nps`` head (a user's own, trained on recommend answers), sentiment | promoter/detractor when loyalty is explicit; else the ``nps`` head's most likely class when the models have one (the defaults do not); else the sentiment-only csat estimate ≥ 4.5 promoter, 3–4.5 passive (neutral questions and reports), < 3 detractor |
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Mapping, Optional, Sequence

from .results import CXSignals, Evidence

CHURN_WEIGHTS = {
    "bias": -3.0, "p_negative": 2.5, "p_mixed": 1.0, "p_anger": 1.0, "effort_high": 1.0,
    "detractor": 2.0, "churn_phrase": 3.0, "promoter": -1.5, "p_positive": -1.0,
}
# csat_score cut-offs for the NPS class when loyalty is not explicit: a clearly
# positive text (≥ 4.5 expected stars) reads as a promoter, a neutral one
# (a question, a plain report) as a passive, a negative one as a detractor.
NPS_PROMOTER_CSAT = 4.5
NPS_PASSIVE_CSAT = 3.0
_STAGE_ORDER = {"pre_purchase": 0, "purchase": 1, "post_purchase": 2}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def csat_from_sentiment(sentiment: Mapping[str, float]) -> float:
    """Expected stars read off sentiment alone (used without a ``csat`` head)."""
    return 1.0 + 4.0 * (sentiment.get("positive", 0.0) + 0.5 * sentiment.get("neutral", 0.0)
                        + 0.5 * sentiment.get("mixed", 0.0))


def nps_from_csat(csat_score: float) -> str:
    return ("promoter" if csat_score >= NPS_PROMOTER_CSAT else
            "passive" if csat_score >= NPS_PASSIVE_CSAT else "detractor")


def nps_rule(loyalty: Optional[str], sentiment: Mapping[str, float]) -> str:
    """The NPS class without an ``nps`` head: explicit loyalty decides, else
    the cut-offs on the sentiment-only estimate (a ``csat`` head's expected
    stars crowd the middle)."""
    return loyalty if loyalty in ("promoter", "detractor") else nps_from_csat(csat_from_sentiment(sentiment))


def signal_polarity(signals: CXSignals) -> Optional[str]:
    """The sentiment a text's explicit CX signals state: negative for high
    effort or a detractor (churn included), positive for low effort or a
    promoter, None when they say nothing or disagree. The analyzer lets it
    settle a text the sentiment head calls neutral: «سه بار زنگ زدم» or
    «آخر مرة أطلب منهم» is a complaint, however flat its words."""
    return polarity_of(signals.effort, signals.loyalty)


def polarity_of(effort: Optional[str], loyalty: Optional[str]) -> Optional[str]:
    """``signal_polarity`` for an effort and a loyalty value."""
    neg = effort == "high" or loyalty == "detractor"
    pos = effort == "low" or loyalty == "promoter"
    return "negative" if neg and not pos else "positive" if pos and not neg else None


def stated_signals(signals: Mapping[str, Sequence[Evidence]]) -> tuple[Optional[str], Optional[str]]:
    """Effort and loyalty as a text's phrases state them: high beats low, a
    detractor or churn phrase beats a promoter one, None where no phrase speaks."""
    effort = "high" if signals.get("effort_high") else ("low" if signals.get("effort_low") else None)
    loyalty = ("detractor" if (signals.get("loyalty_detractor") or signals.get("churn"))
               else ("promoter" if signals.get("loyalty_promoter") else None))
    return effort, loyalty


# A learned effort or loyalty head speaks only where no phrase does, and only
# this sure of high/low or promoter/detractor, unless the head records its own
# bar for a label (``HeadSpec.thresholds``, passed as ``head_bars``).
HEAD_SIGNAL_MIN = 0.8

# Below this top probability a positive/negative call yields to the side the
# text's CX signals state. Above it the head wins: on the dev splits of the
# review and tweet data, where a confident head and a signal disagree, the
# gold label is the head's 20 times and the signal's 4 (of 25).
SIGNAL_SETTLES_BELOW = 0.6


def settle_sentiment(label: str, probs: Mapping[str, float], side: Optional[str]) -> str:
    """The sentiment label served for a text: the head's (or clauses') label,
    unless ``side``, the polarity the effort or loyalty of its phrases states
    (``polarity_of(*stated_signals(...))``; not learned effort or loyalty
    heads, which read the same embedding as the sentiment head), is set and
    the label is ``neutral``, or is the opposite side with the head unsure of
    it («التسجيل كله ما أخذ خمس دقايق» read negative at 0.53). ``mixed``
    stays: a mixed text may well state a signal for one of its sides."""
    if side is None or label in (side, "mixed"):
        return label
    if label == "neutral" or probs.get(label, 0.0) < SIGNAL_SETTLES_BELOW:
        return side
    return label


def _head_says(probs: Mapping[str, float], stated: Sequence[str], bars: Mapping[str, float]) -> Optional[str]:
    """The head's most likely label, if it is one of ``stated`` and the head is
    at least its bar sure of it; else None."""
    best = max(probs, key=probs.get)
    return best if best in stated and probs[best] >= bars.get(best, HEAD_SIGNAL_MIN) else None


def derive(
    sentiment: Mapping[str, float],
    emotion: Mapping[str, float],
    aspect_stages: Sequence[Optional[str]],
    signals: Mapping[str, Sequence[Evidence]],
    head_probs: Optional[Mapping[str, Mapping[str, float]]] = None,
    head_bars: Optional[Mapping[str, Mapping[str, float]]] = None,
) -> CXSignals:
    """Combine model probabilities and matched phrases into CX signals.

    ``signals`` maps a taxonomy signal name to the evidence spans found;
    ``aspect_stages`` holds the journey stage of each aspect evidence;
    ``head_probs`` holds optional learned heads (``effort``, ``loyalty``, ``csat``, ``nps``);
    ``head_bars``, per head, how sure it must be of a label to state it (default ``HEAD_SIGNAL_MIN``).
    """
    head_probs = head_probs or {}
    head_bars = head_bars or {}
    churn = list(signals.get("churn", ()))

    effort, loyalty = stated_signals(signals)
    if effort is None and "effort" in head_probs:
        effort = _head_says(head_probs["effort"], ("high", "low"), head_bars.get("effort", {}))
    if loyalty is None and "loyalty" in head_probs:
        loyalty = _head_says(head_probs["loyalty"], ("promoter", "detractor"), head_bars.get("loyalty", {}))

    w = CHURN_WEIGHTS
    z = (w["bias"] + w["p_negative"] * sentiment.get("negative", 0.0) + w["p_mixed"] * sentiment.get("mixed", 0.0)
         + w["p_anger"] * emotion.get("anger", 0.0) + w["effort_high"] * (effort == "high")
         + w["detractor"] * (loyalty == "detractor") + w["churn_phrase"] * bool(churn)
         + w["promoter"] * (loyalty == "promoter") + w["p_positive"] * sentiment.get("positive", 0.0))
    churn_risk = _sigmoid(z)

    stage_votes: Counter = Counter()
    for stage in ("pre_purchase", "purchase", "post_purchase"):
        stage_votes[stage] += 2 * len(signals.get(f"journey_{stage}", ()))
    if not stage_votes or max(stage_votes.values()) == 0:
        stage_votes.update(s for s in aspect_stages if s)
    journey = None
    if stage_votes and max(stage_votes.values()) > 0:
        journey = max(stage_votes, key=lambda s: (stage_votes[s], _STAGE_ORDER[s]))

    if "csat" in head_probs:
        cp = head_probs["csat"]
        csat_score = sum(float(k) * v for k, v in cp.items()) / max(sum(cp.values()), 1e-9)
    else:
        csat_score = csat_from_sentiment(sentiment)
    csat_score = min(5.0, max(1.0, csat_score))
    csat = int(min(5, max(1, round(csat_score))))

    if "nps" in head_probs and loyalty not in ("promoter", "detractor"):
        npp = head_probs["nps"]
        nps_class = max(npp, key=npp.get)
    else:
        nps_class = nps_rule(loyalty, sentiment)

    evidence = {k: tuple(signals[k]) for k in ("effort_high", "effort_low", "loyalty_promoter", "loyalty_detractor",
                                               "churn") if signals.get(k)}
    for stage in ("pre_purchase", "purchase", "post_purchase"):
        ev = signals.get(f"journey_{stage}", ())
        if ev:
            evidence[f"journey_{stage}"] = tuple(ev)
    return CXSignals(effort=effort, loyalty=loyalty, churn_risk=churn_risk, journey_stage=journey, csat=csat,
                     csat_score=csat_score, nps_class=nps_class, evidence=evidence)
