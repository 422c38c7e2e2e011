"""Tests of cxtext.datasets against the real files in ../shared/datasets.

The data tests are marked ``data`` and skipped when the data directory is
missing; the few tests at the top need no data.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from cxtext import datasets
from cxtext.datasets import (
    DATASETS,
    EVAL_ONLY,
    LABEL_MAPS,
    DatasetNotFoundError,
    iter_texts,
    load,
    load_lexicon,
    match_key,
    normalize_text,
)
from cxtext.errors import UnsupportedFormatError
from cxtext.registry import EMOTION_LABELS, SENTIMENT_LABELS
from cxtext.taxonomy import ASPECTS

DATA_DIR = Path(os.environ.get(datasets.ENV_VAR) or datasets.DEFAULT_DATA_DIR)


def needs_data(test):
    """Mark ``data`` and skip when the data directory is missing."""
    skip = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"no data directory at {DATA_DIR}")
    return pytest.mark.data(skip(test))


# Rows per split after the documented drops. README counts first, then why ours differ:
# leak = train/dev rows whose match_key equals a test (or dev) row's; dup = de-duplication,
# where groups of copies with different labels are dropped entirely.
EXPECTED_SPLITS = {
    # 6,999 test as given; pool 6,299 + 8,337 + 9,033 = 23,669 minus the test comments
    # and duplicates = 20,398 unique (27,445 - 6,999 - 48 near-duplicates by key), 10 % dev.
    "fa_snappfood": {"train": 18406, "dev": 1992, "test": 6999},
    # 5,561 train: 180 rows are test sentences, 238 duplicates / conflicting copies.
    "fa_deepsentipers": {"train": 5143, "test": 1854},
    # 15,683 sentences, 2,675 duplicate keys; test = those in DeepSentiPers test (1,709 unique).
    "fa_sentipers": {"train": 11161, "test": 1709},
    # food 1,535 / 190 / 192 + movie 358 / 45 / 102 reviews; one duplicate food train review.
    "fa_parsinlu_sentiment": {"train": 1893, "dev": 235, "test": 294},
    # 2,001 (review, target) samples grouped into 1,719 distinct review texts.
    "fa_pars_absa": {"test": 1719},
    # 6,157 train: 6 test texts, 90 duplicates / conflicts.
    "fa_armanemo": {"train": 6061, "test": 1151},
    # 4,924 train: 11 test texts, 20 duplicates / conflicts.
    "fa_shortpersianemo": {"train": 4893, "test": 548},
    # 10,127 rows, 9 duplicates; hash split 80/20.
    "fa_emopars_filtered": {"train": 8087, "test": 2031},
    # 3,261 comments, 242 duplicates / conflicts; hash split 80/20.
    "fa_digikala_comments_small": {"train": 2357, "test": 662},
    # val 3,022: 426 rows are test texts (short generic comments), 140 duplicates.
    "fa_taaghche_partial": {"dev": 2456, "test": 3023},
    # 930 reviews + 703 sentences, one empty review.
    "fa_hotel_reviews_sentifars": {"test": 1632},
    "ar_ajgt": {"train": 1455, "test": 345},
    # unbalanced 6,008 / 1,999 / 1,999: dev 11 test texts + 3 dup; train 37 leaks + 25 dup.
    "ar_astd": {"train": 5946, "dev": 1985, "test": 1999},
    # 16,851 train: 289 test texts, 548 duplicates / conflicts.
    "ar_arsas": {"train": 16014, "test": 4213},
    # 17,432 reviews, 151 duplicates / conflicts (RES1 and RES2 overlap); hash split.
    "ar_elsahar_multidomain": {"train": 13803, "test": 3478},
    # 4,802 / 1,227 sentences minus 10 / 2 OutOfScope; train: 6 test texts, 18 dup.
    "ar_semeval2016_absa_hotels": {"train": 4768, "test": 1225},
    # 2,863 train: 2 test texts, 9 duplicates.
    "ar_semeval2018_ec": {"train": 2852, "test": 1518},
    # 10,065 tweets, one empty, 151 duplicates / conflicts; hash split.
    "ar_emotone": {"train": 7923, "test": 1990},
    # 4,000 rows but ~1,200 repeat a tweet (one row per target); conflicting copies dropped.
    "ar_arsentd_lev": {"train": 2083, "test": 508},
    "ar_saudi_tourism_reviews": {"test": 3894},
    # 45,436 / 5,675 / 5,671: train 648 leaks + 1,198 dup; dev 27 leaks + 21 dup.
    "ar_marsa": {"train": 43590, "dev": 5627, "test": 5671},
    # 2,127 / 455 / 457 reviews: one train review is a test review, 2 duplicates.
    "ar_amazon_eg_aste": {"train": 2124, "dev": 455, "test": 457},
}

LABELS_BY_TASK = {
    "sentiment": set(SENTIMENT_LABELS),
    "emotion": set(EMOTION_LABELS) | {None},
    "absa": set(SENTIMENT_LABELS) | {None},
    "recommend": {"promoter", "detractor", None},
}


# ----------------------------------------------------------------- no data needed


@pytest.mark.parametrize("text, expected", [
    ("", ""),
    ("   ", ""),
    ("\t a  \n b \u00a0", "a b"),
    ("سلام   دنیا", "سلام دنیا"),
])
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize("a, b, same", [
    ("می‌خوام!", "مي خوام", True),  # ZWNJ vs space, Arabic yeh, punctuation
    ("كتاب ۱۲", "کتاب 12", True),  # Arabic kaf, Persian digits
    ("مُمتاز", "ممتاز", True),  # diacritics
    ("جيد", "سيئ", False),
    ("", " ", True),
    ("😍", "😍 ", True),  # no word character: falls back to normalize_text
    ("😍", "😡", False),
])
def test_match_key(a, b, same):
    assert (match_key(a) == match_key(b)) is same


def test_label_maps_use_our_label_sets():
    ours = set(SENTIMENT_LABELS) | set(EMOTION_LABELS) | set(ASPECTS) | {"promoter", "detractor", None}
    for key, mapping in LABEL_MAPS.items():
        assert set(mapping.values()) <= ours, key
        if key.endswith("/aspects"):
            assert set(mapping.values()) <= set(ASPECTS) | {None}, key


def test_datasets_registry():
    assert EVAL_ONLY == {"fa_hotel_reviews_sentifars", "ar_saudi_tourism_reviews"}
    for name, info in DATASETS.items():
        assert info.name == name
        assert info.lang in ("fa", "ar")
        assert name.startswith(info.lang + "_")
        assert info.task in ("sentiment", "emotion", "absa", "recommend", "lexicon")


def test_missing_data_dir_raises_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load("ar_ajgt", data_dir=tmp_path / "nowhere")
    assert isinstance(info.value, FileNotFoundError)
    assert "CXTEXT_DATA_DIR" in str(info.value) and "--data-dir" in str(info.value)
    assert str(tmp_path / "nowhere") in str(info.value)
    assert info.value.code == "E010"


def test_missing_folder_raises(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="ar_ajgt"):
        load("ar_ajgt", data_dir=tmp_path)


def test_unknown_name_and_lexicon_via_load():
    with pytest.raises(DatasetNotFoundError, match="unknown dataset"):
        load("no_such_dataset")
    with pytest.raises(UnsupportedFormatError, match="load_lexicon"):
        load("fa_sentiment_lexicons")


# ----------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def frames():
    if not DATA_DIR.is_dir():
        pytest.skip(f"no data directory at {DATA_DIR}")
    return {name: load(name) for name in datasets.TEXT_DATASETS}


@needs_data
@pytest.mark.parametrize("name", list(EXPECTED_SPLITS))
def test_split_counts(name, frames):
    counts = frames[name]["split"].value_counts().to_dict()
    assert counts == EXPECTED_SPLITS[name]


@needs_data
def test_every_folder_is_registered():
    folders = {p.name for p in DATA_DIR.iterdir() if p.is_dir()}
    assert folders == set(DATASETS)
    assert set(EXPECTED_SPLITS) == set(datasets.TEXT_DATASETS)


@needs_data
def test_columns_and_values(frames):
    for name, frame in frames.items():
        info = DATASETS[name]
        assert list(frame.columns[:10]) == list(datasets.COLUMNS), name
        assert len(frame) > 0, name
        assert (frame["text"] == frame["text"].str.strip()).all(), name
        assert (frame["text"] != "").all(), name
        assert set(frame["lang"]) == {info.lang}, name
        assert set(frame["split"]) <= set(datasets.SPLITS), name
        for task, group in frame.groupby("task"):
            assert set(group["label"]) <= LABELS_BY_TASK[task], (name, task)
        assert frame["source_label"].map(lambda s: isinstance(s, str)).all(), name
        stars = frame["stars"].dropna()
        assert stars.between(1, 5).all(), name


@needs_data
def test_sentiment_sets_have_no_dropped_labels(frames):
    for name, frame in frames.items():
        if DATASETS[name].task == "sentiment":
            assert frame["label"].notna().all(), name


@needs_data
def test_aspects_and_emotions_in_our_sets(frames):
    for name, frame in frames.items():
        for pairs in frame["aspects"].dropna():
            for aspect, polarity in pairs:
                assert aspect in ASPECTS and polarity in SENTIMENT_LABELS, name
            assert len({a for a, _ in pairs}) == len(pairs), name  # one polarity per aspect
        for emotions in frame["emotions"].dropna():
            assert set(emotions) <= set(EMOTION_LABELS) - {"neutral"}, name
    absa = [n for n, i in DATASETS.items() if i.task == "absa"]
    for name in absa:
        assert frames[name]["aspects"].map(bool).sum() > 0.5 * frames[name]["aspects"].notna().sum(), name


@needs_data
def test_expected_label_distributions(frames):
    assert Counter(frames["fa_snappfood"].query("split == 'test'")["label"]) == {"negative": 3500, "positive": 3499}
    # ASTD's NEUTRAL is the source's "subjective mixed"; OBJ is our neutral.
    assert Counter(frames["ar_astd"].query("split == 'test'")["label"]) == {
        "neutral": 1338, "negative": 336, "mixed": 166, "positive": 159}
    assert Counter(frames["fa_armanemo"].query("split == 'test'")["label"]) == {
        "joy": 275, "sadness": 262, "neutral": 193, "anger": 154, "surprise": 145, "disgust": 65, "fear": 57}
    # ParsiNLU 3 = mixed, kept in source_label as "3".
    parsinlu = frames["fa_parsinlu_sentiment"]
    assert ((parsinlu["source_label"] == "3") == (parsinlu["label"] == "mixed")).all()
    # DeepSentiPers keeps its five levels for 5-class evaluation.
    assert set(frames["fa_deepsentipers"]["source_label"]) == {"-2", "-1", "0", "1", "2"}
    # SemEval-2018: neutral only where the source has no emotion at all.
    semeval = frames["ar_semeval2018_ec"]
    assert (semeval.loc[semeval["label"] == "neutral", "source_label"] == "none").all()
    assert ((semeval["label"] == "neutral") == (semeval["source_label"] == "none")).all()


@needs_data
def test_no_test_text_in_train_or_dev(frames):
    for name, frame in frames.items():
        test = frame[frame["split"] == "test"]["text"]
        rest = frame[frame["split"] != "test"]["text"]
        assert not set(rest.map(normalize_text)) & set(test.map(normalize_text)), name
        assert not set(rest.map(match_key)) & set(test.map(match_key)), name
        train = frame[frame["split"] == "train"]["text"]
        dev = frame[frame["split"] == "dev"]["text"]
        assert not set(train.map(match_key)) & set(dev.map(match_key)), name


@needs_data
def test_train_is_deduplicated(frames):
    for name, frame in frames.items():
        for split in ("train", "dev"):
            keys = frame.loc[frame["split"] == split, "text"].map(match_key)
            assert not keys.duplicated().any(), (name, split)


@needs_data
def test_eval_only_sets_are_test_only(frames):
    for name in EVAL_ONLY:
        assert set(frames[name]["split"]) == {"test"}


@needs_data
def test_sentipers_never_trains_on_deepsentipers_test(frames):
    deep_test = set(frames["fa_deepsentipers"].query("split == 'test'")["text"].map(match_key))
    sentipers = frames["fa_sentipers"]
    assert not set(sentipers.query("split == 'train'")["text"].map(match_key)) & deep_test
    assert set(sentipers.query("split == 'test'")["text"].map(match_key)) <= deep_test


@needs_data
def test_snappfood_pool_excludes_parsbert_test(frames):
    import pandas as pd

    test_file = pd.read_csv(DATA_DIR / "fa_snappfood" / "parsbert_test.csv", dtype=str, keep_default_na=False)
    snapp = frames["fa_snappfood"]
    pool = set(snapp.query("split != 'test'")["text"].map(normalize_text))
    assert not pool & set(test_file["comment"].map(normalize_text))
    dev_share = (snapp["split"] == "dev").sum() / (snapp["split"] != "test").sum()
    assert 0.09 < dev_share < 0.11


@needs_data
def test_hash_splits_are_about_80_20(frames):
    for name in ("fa_emopars_filtered", "fa_digikala_comments_small", "ar_ajgt", "ar_elsahar_multidomain",
                 "ar_emotone", "ar_arsentd_lev"):
        share = (frames[name]["split"] == "test").mean()
        assert 0.17 < share < 0.23, (name, share)


@needs_data
def test_load_returns_independent_copies():
    first = load("fa_pars_absa")
    text, aspects = first.loc[0, "text"], list(first.at[0, "aspects"])
    first.loc[0, "text"] = "changed"
    first.at[0, "aspects"].append(("billing_payment", "negative"))
    second = load("fa_pars_absa")
    assert second.loc[0, "text"] == text
    assert second.at[0, "aspects"] == aspects


@needs_data
def test_iter_texts_covers_every_dataset(frames):
    seen = Counter()
    for name, lang, text in iter_texts():
        assert lang == DATASETS[name].lang and text
        seen[name] += 1
    assert seen == {name: len(frame) for name, frame in frames.items()}


@needs_data
def test_test_texts(frames):
    all_texts = datasets.test_texts()
    fa, ar = datasets.test_texts("fa"), datasets.test_texts("ar")
    assert fa | ar == all_texts
    for name, frame in frames.items():
        expected = set(frame.loc[frame["split"] == "test", "text"].map(normalize_text))
        assert expected <= (fa if DATASETS[name].lang == "fa" else ar), name
        train = set(frame.loc[frame["split"] == "train", "text"].map(normalize_text))
        assert not train & expected, name
    assert set(frames["ar_saudi_tourism_reviews"]["text"].map(normalize_text)) <= ar


@needs_data
def test_lexicon():
    lexicon = load_lexicon()
    assert list(lexicon.columns) == ["term", "polarity", "source", "research_only"]
    assert lexicon["source"].value_counts().to_dict() == {"lexipers": 6903, "lexicon_based": 2752, "persent": 1490}
    assert lexicon["polarity"].dropna().between(-1, 1).all()
    assert (lexicon["term"].str.strip() != "").all()
    assert set(lexicon.loc[lexicon["source"] == "lexipers", "research_only"]) == {False}

