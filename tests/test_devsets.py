"""The hand-written CX sets in models/devsets: well-formed, so that
``cxtext evaluate --devset`` scores what their writers meant."""
import json
from pathlib import Path

import pytest

from cxtext.registry import EMOTION_LABELS, SENTIMENT_LABELS
from cxtext.taxonomy import JOURNEY_STAGES, load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
DEVSETS = sorted((ROOT / "models" / "devsets").glob("*.jsonl"))
ALLOWED = {
    "effort": {None, "high", "low"},
    "loyalty": {None, "promoter", "detractor"},
    "journey_stage": {None, *JOURNEY_STAGES},
    "churn": {True, False},
}


def test_the_hand_written_sets_are_there():
    assert {p.stem for p in DEVSETS} >= {"cx_dev", "cx_paraphrase", "cx_paraphrase_b", "cx_heldout_c", "cx_heldout_d",
                                        "cx_heldout_e", "cx_heldout_f"}


@pytest.mark.parametrize("path", DEVSETS, ids=lambda p: p.stem)
def test_devset_rows_use_our_labels(path):
    aspects = set(load_taxonomy(ROOT / "models" / "taxonomy.json").aspect_names)
    rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    assert len({r["id"] for r in rows}) == len(rows) >= 30
    for r in rows:
        assert r["lang"] in ("fa", "ar", "en") and r["text"].strip(), r["id"]
        assert r["sentiment"] in SENTIMENT_LABELS and r["emotion"] in EMOTION_LABELS, r["id"]
        assert {a["name"] for a in r["aspects"]} <= aspects, r["id"]
        for key, allowed in ALLOWED.items():  # a set may leave out a signal its writer did not label
            assert r.get(key) in allowed if key in r else key in ("journey_stage", "churn"), (r["id"], key)
    labelled = {key for r in rows for key in ALLOWED if key in r}
    assert all(labelled <= set(r) for r in rows)  # a signal is labelled on every row of a set, or on none


def test_no_devset_message_is_a_training_message():
    train = set()
    for f in [*(ROOT / "models" / "signal_train").glob("*.jsonl"), *(ROOT / "models" / "signal_extra").glob("*.jsonl")]:
        train |= {json.loads(l)["text"].strip() for l in f.read_text(encoding="utf-8").splitlines() if l.strip()}
    assert len(train) >= 1500
    for path in DEVSETS:
        texts = {json.loads(l)["text"].strip() for l in path.read_text(encoding="utf-8").splitlines() if l.strip()}
        assert not texts & train, path.stem
