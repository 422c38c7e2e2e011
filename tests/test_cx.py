"""The CX rules of cxtext/cx.py, one by one (the README table mirrors them)."""
from __future__ import annotations

import pytest

from cxtext.cx import SIGNAL_SETTLES_BELOW, derive, settle_sentiment, signal_polarity
from cxtext.results import Evidence

NEG = {"negative": 0.9, "neutral": 0.05, "positive": 0.03, "mixed": 0.02}
POS = {"negative": 0.02, "neutral": 0.05, "positive": 0.9, "mixed": 0.03}
NEU = {"negative": 0.05, "neutral": 0.9, "positive": 0.05, "mixed": 0.0}
CALM = {"neutral": 1.0}
ANGRY = {"anger": 0.9, "neutral": 0.1}
EV = (Evidence(0, 3, "abc"),)


def test_effort_high_wins_over_low_and_null_when_silent():
    assert derive(NEG, CALM, [], {"effort_high": EV, "effort_low": EV}).effort == "high"
    assert derive(POS, CALM, [], {"effort_low": EV}).effort == "low"
    assert derive(POS, CALM, [], {}).effort is None


def test_loyalty_detractor_from_churn_and_explicit_loyalty_sets_nps():
    r = derive(POS, CALM, [], {"churn": EV})
    assert r.loyalty == "detractor" and r.nps_class == "detractor"
    r = derive(NEG, CALM, [], {"loyalty_promoter": EV})
    assert r.loyalty == "promoter" and r.nps_class == "promoter"
    assert derive(POS, CALM, [], {"loyalty_promoter": EV, "loyalty_detractor": EV}).loyalty == "detractor"


@pytest.mark.parametrize("sent,csat,nps", [(POS, 5, "promoter"), (NEU, 3, "passive"), (NEG, 1, "detractor")])
def test_csat_and_nps_from_sentiment(sent, csat, nps):
    r = derive(sent, CALM, [], {})
    assert r.csat == csat and r.nps_class == nps
    assert 1 <= r.csat_score <= 5


def test_churn_risk_orders_as_the_rule_says():
    calm_pos = derive(POS, CALM, [], {}).churn_risk
    neg = derive(NEG, CALM, [], {}).churn_risk
    angry_effort = derive(NEG, ANGRY, [], {"effort_high": EV}).churn_risk
    churn = derive(NEG, ANGRY, [], {"effort_high": EV, "churn": EV}).churn_risk
    assert calm_pos < 0.1 < neg < angry_effort < churn and churn > 0.9


def test_journey_stage_phrases_beat_aspects_and_ties_go_later():
    assert derive(NEU, CALM, ["post_purchase"], {"journey_pre_purchase": EV}).journey_stage == "pre_purchase"
    assert derive(NEU, CALM, ["purchase", "post_purchase"], {}).journey_stage == "post_purchase"
    assert derive(NEU, CALM, [], {}).journey_stage is None


def test_learned_heads_are_used_when_present():
    r = derive(NEU, CALM, [], {}, {"csat": {"1": 0.0, "2": 0.0, "3": 0.0, "4": 0.1, "5": 0.9}})
    assert r.csat == 5
    r = derive(NEU, CALM, [], {}, {"effort": {"high": 0.9, "low": 0.05, "none": 0.05}})
    assert r.effort == "high"


def test_a_head_states_a_signal_at_its_own_bar_and_a_phrase_still_comes_first():
    heads = {"effort": {"high": 0.75, "low": 0.05, "none": 0.2}, "loyalty": {"promoter": 0.1, "detractor": 0.72, "none": 0.18}}
    r = derive(NEU, CALM, [], {}, heads)  # below the default bar (0.8): neither is stated
    assert (r.effort, r.loyalty) == (None, None)
    bars = {"effort": {"high": 0.7, "low": 0.7}, "loyalty": {"promoter": 0.7}}
    r = derive(NEU, CALM, [], {}, heads, bars)
    assert (r.effort, r.loyalty) == ("high", None)  # a label without its own bar keeps the default
    r = derive(NEU, CALM, [], {"effort_low": EV}, heads, bars)
    assert r.effort == "low"  # a phrase states it first


@pytest.mark.parametrize("signals,side", [
    ({"effort_high": EV}, "negative"), ({"churn": EV}, "negative"), ({"loyalty_detractor": EV}, "negative"),
    ({"effort_low": EV}, "positive"), ({"loyalty_promoter": EV}, "positive"),
    ({"effort_high": EV, "loyalty_promoter": EV}, None), ({}, None),
])
def test_signal_polarity_states_a_side_only_when_the_signals_agree(signals, side):
    assert signal_polarity(derive(NEU, CALM, [], signals)) == side


UNSURE_NEG = {"negative": 0.53, "neutral": 0.21, "positive": 0.25, "mixed": 0.01}


@pytest.mark.parametrize("label,probs,signals,served", [
    ("neutral", NEU, {"effort_high": EV}, "negative"),  # a flat text takes its signal's side
    ("negative", UNSURE_NEG, {"effort_low": EV}, "positive"),  # an unsure head yields
    ("negative", NEG, {"effort_low": EV}, "negative"),  # a confident one does not
    ("mixed", NEU, {"loyalty_promoter": EV}, "mixed"),  # mixed stays mixed
    ("negative", UNSURE_NEG, {"effort_low": EV, "churn": EV}, "negative"),  # disagreeing signals say nothing
    ("positive", POS, {}, "positive"),
])
def test_settle_sentiment(label, probs, signals, served):
    assert settle_sentiment(label, probs, signal_polarity(derive(probs, CALM, [], signals))) == served


def test_settle_sentiment_threshold_is_strict():
    at = {"negative": SIGNAL_SETTLES_BELOW, "neutral": 0.2, "positive": 0.2, "mixed": 0.0}
    assert settle_sentiment("negative", at, signal_polarity(derive(at, CALM, [], {"effort_low": EV}))) == "negative"
