"""Loaders for the labelled Persian/Arabic data in ``../shared/datasets``.

Every dataset folder becomes one :class:`pandas.DataFrame` with the same
columns, in our label sets, with train/dev/test splits that never leak test
texts into training. The data files are read in place and never copied.

Columns of :func:`load`:

* ``text``: the source text, stripped (internal whitespace kept); empty rows dropped.
* ``lang``: ``"fa"`` or ``"ar"``.
* ``split``: ``"train"``, ``"dev"`` or ``"test"``.
* ``task``: ``"sentiment"``, ``"emotion"``, ``"absa"`` or ``"recommend"``.
* ``label``: our label (sentiment: negative/neutral/positive/mixed; emotion:
  anger/disgust/fear/joy/sadness/surprise/neutral; recommend:
  promoter/detractor), or ``None`` where the source label is dropped.
* ``source_label``: the original label as a string (ABSA sets: the original
  annotations joined with ``|``).
* ``stars``: 1-5 rating (float) where the source has one, else NaN.
* ``aspects``: list of ``(aspect, polarity)`` in the CX taxonomy for ABSA
  rows, else ``None``. Polarity is a sentiment label; ``"mixed"`` occurs where
  the source says mixed/conflict or two source aspects that fold into one of
  ours disagree (the aspect-polarity heads have no ``mixed``: use those pairs
  for aspect presence only).
* ``emotions``: list of our emotions for the multi-label sets (EmoPars,
  SemEval-2018 E-c), else ``None``.
* ``domain``: a short domain name (``food_delivery``, ``tweets``, ``hotels``...).
* Extra columns where a source has them: ``targets`` (Pars-ABSA: ``(term,
  polarity)``; Amazon-EG: ``(aspect term, opinion term, polarity)``), ``unit``
  (SentiFars: ``review`` / ``sentence``), ``target`` (ArSenTD-LEV).

Splits and hygiene
    Official test splits are kept as given (only empty texts dropped), so
    their counts match the folder READMEs. Where a source has no split, a
    deterministic split is made from a seeded SHA-1 hash of the text's
    :func:`match_key` (80 % train / 20 % test; SnappFood: 90 % train / 10 %
    dev of its pool), so evaluation always reuses the same test rows and
    near-duplicates fall on the same side. Then, per dataset:

    1. every dev row whose :func:`match_key` equals a test row's is dropped,
       and every train row whose key equals a test or dev row's is dropped;
    2. train and dev (and a test split we made ourselves) are de-duplicated
       by key: copies that agree on the label are kept once, groups whose
       copies disagree are dropped entirely.

    :func:`match_key` is stricter than :func:`normalize_text` (it also folds
    Arabic/Persian yeh and kaf, digits, diacritics, punctuation and the
    zero-width non-joiner), so no train text equals a test text under either.
    :func:`test_texts` returns the normalised texts of every test split and of
    the evaluation-only sets, for removing them across datasets.

Per-dataset decisions (the maps themselves are in :data:`LABEL_MAPS`)
    ``fa_snappfood``
        HAPPY→positive, SAD→negative. No train file exists:
        ``parsbert_test.csv`` is the test split; ``parsbert_dev.csv`` +
        ``resplit_validation.csv`` + ``resplit_test.csv`` form a pool from
        which every comment of the test file is removed, de-duplicated, and
        split 90/10 train/dev by hash.
    ``fa_deepsentipers``
        -2,-1→negative, 0→neutral, 1,2→positive (``source_label`` keeps the
        5 levels). ``original.csv``→train, ``test.csv``→test. The augmented
        ``balanced.csv`` / ``translation.csv`` are not loaded: they hold
        SentiPers sentences that may be test sentences.
    ``fa_sentipers``
        Same map. No source split: sentences whose key is a DeepSentiPers
        test sentence are split ``test`` (DeepSentiPers is a subset of
        SentiPers), the rest ``train``. The ``main_xml`` files are not read
        (their sentences are in the xlsx).
    ``fa_parsinlu_sentiment``
        Review sentiment -2,-1→negative, 0→neutral, 1,2→positive, 3→mixed.
        Food: the review-level ``food.jsonl``; a review is dev/test when it is
        in ``food_dev/food_test.jsonl`` (all are), else train. Food aspects:
        taste (طعم), quality (کیفیت), nutritional value (ارزش غذایی) →
        product_quality; value for money (ارزش خرید) → price_value; packaging
        (بسته بندی) → packaging; delivery (ارسال) → delivery. Movies: one row
        per review of ``movie_train/dev/test.jsonl`` with the overall (کلی)
        label; movie aspects (acting, story...) are not CX aspects, so
        ``aspects`` is ``None`` and the row task is ``sentiment``. -3
        ("aspect not discussed") only occurs in aspect-question files and is
        ignored. The ``human_evaluation_*`` files are subsets of test and are
        not loaded.
    ``fa_pars_absa``
        Test only. The 2,001 (review, target) samples are grouped into one row
        per review text (1,719 rows); ``targets`` keeps every (term,
        polarity), 1→positive, 0→neutral, -1→negative. Target terms are mapped
        to aspects by :data:`ASPECT_TERM_RULES`; a term that names the product
        or one of its parts (گوشی, دوربین, باتری...) → product_quality; the
        retailer's name (دیجی کالا) is dropped. ``label`` is ``None`` (no
        review-level sentiment).
    ``fa_armanemo``
        ANGRY→anger, HATE→disgust, FEAR→fear, HAPPY→joy, SAD→sadness,
        SURPRISE→surprise, OTHER→neutral. Read with ``QUOTE_NONE`` (some
        texts begin with a stray ``"``; default quoting merges lines).
    ``fa_shortpersianemo``
        HAPPY→joy, SAD→sadness, ANGRY→anger, FEAR→fear, OTHER→neutral.
    ``fa_emopars_filtered``
        Multi-label: Anger→anger, Fear→fear, Happiness→joy, Hatred→disgust,
        Sadness→sadness, Wonder→surprise into ``emotions``; ``label`` is the
        emotion when exactly one is present, ``neutral`` when none, ``None``
        when several. Hash split 80/20.
    ``fa_digikala_comments_small``
        Task ``recommend``: Suggestion 1→promoter, 2→detractor, 3 ("no idea")
        →None. ``stars`` = 1 + 4 × Score / 100 (Score is a 0-100 satisfaction
        percentage). Hash split 80/20.
    ``fa_taaghche_partial``
        0→negative, 1→neutral (a middle star rate), 2→positive.
        ``val.csv``→dev, ``test.csv``→test; there is no train split.
    ``fa_hotel_reviews_sentifars`` (evaluation only: every row is ``test``)
        Sheet1 reviews and Sheet2 sentences (``unit`` column); 0→negative,
        1→mixed (read from samples: "good but with complaints"), 2→positive;
        ``stars`` from the sheets. The empty aspect columns are ignored.
    ``fa_sentiment_lexicons``
        Not texts: :func:`load` refuses it; :func:`load_lexicon` returns the
        terms.
    ``ar_ajgt``
        Positive/Negative → positive/negative. Hash split 80/20.
    ``ar_astd``
        POS→positive, NEG→negative, NEUTRAL→mixed (the source's "subjective
        mixed"), OBJ→neutral (objective). Splits from the ``4class-unbalanced``
        index files (0-based row positions in ``Tweets.txt``); validation→dev.
    ``ar_arsas``
        Positive/Negative/Neutral/Mixed → ours. Read with ``QUOTE_NONE``.
    ``ar_elsahar_multidomain``
        1→positive, -1→negative, 0→neutral (a middle rating; labels come from
        ratings and are noisy). ``domain`` = attractions / products /
        restaurants (RES1 and RES2 together). Hash split 80/20.
    ``ar_emotone``
        none→neutral; anger, joy, sadness, surprise, fear as is; love→joy
        (Plutchik: love = joy + trust; GoEmotions' Ekman map also puts love
        under joy); sympathy→sadness (read from samples: condolences, prayers
        for the sick and for people suffering). Hash split 80/20.
    ``ar_semeval2018_ec``
        Multi-label: anger, disgust, fear, joy, sadness, surprise as is;
        love→joy, optimism→joy (anticipation + joy), pessimism→sadness
        (anticipation + sadness); anticipation and trust are dropped.
        ``label``: the emotion when exactly one of ours is present,
        ``neutral`` when the tweet has no emotion at all in the source,
        ``None`` otherwise (several, or only anticipation/trust). The
        training file (official train + dev) → train, testing file → test.
    ``ar_arsentd_lev``
        very_negative, negative → negative; neutral; positive, very_positive →
        positive. Hash split 80/20.
    ``ar_saudi_tourism_reviews`` (evaluation only: every row is ``test``)
        1→positive, 0→negative, 2→neutral (per the folder README).
    ``ar_marsa``
        pos/neg/neut → positive/negative/neutral; Training→train,
        Development→dev, Testing→test; ``domain`` = political / social /
        sport / tech.
    ``ar_semeval2016_absa_hotels``
        Sentence-level SB1 files only (SB2 is the same reviews at text level);
        ``OutOfScope`` sentences dropped; one row per sentence; ``label`` is
        ``None``. Categories → aspects: ``*#PRICES`` → price_value;
        ``SERVICE#GENERAL`` → staff; quality, cleanliness, comfort, design
        and style of ``HOTEL``/``ROOMS``/``ROOMS_AMENITIES``/``FACILITIES``/
        ``FOOD_DRINKS`` and ``#GENERAL`` of the last four → product_quality
        (the hotel's product); dropped: ``HOTEL#GENERAL`` (an overall verdict,
        not an aspect), ``LOCATION#GENERAL`` (no location aspect) and
        ``*#MISCELLANEOUS`` (no defined meaning). Polarity as is.
    ``ar_amazon_eg_aste``
        The combined train/dev/test triplet files give texts and splits;
        ``stars`` and the category (``domain``) come from the ``*_merged.json``
        reviews, matched by key (all match). ``label`` from stars: 1-2 →
        negative, 3 → neutral, 4-5 → positive. Triplet polarity POS/NEG/NEU;
        the malformed ``[POS]`` → positive, ``ENG`` and triplets whose token
        indices fall outside the text are dropped. Aspect terms → aspects by
        :data:`ASPECT_TERM_RULES`; other terms name the product or a part or
        property of it → product_quality; one-character terms are dropped.

Example:
    >>> from cxtext import datasets
    >>> df = datasets.load("fa_snappfood")  # doctest: +SKIP
    >>> df[df.split == "train"].label.value_counts()  # doctest: +SKIP
"""
from __future__ import annotations

import ast
import csv
import functools
import hashlib
import json
import os
import re
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pandas as pd

from .errors import CxtextError, UnsupportedFormatError
from .registry import EMOTION_LABELS, SENTIMENT_LABELS
from .taxonomy import ASPECTS

__all__ = [
    "ASPECT_TERM_RULES",
    "COLUMNS",
    "DATASETS",
    "DEFAULT_DATA_DIR",
    "ENV_VAR",
    "EVAL_ONLY",
    "LABEL_MAPS",
    "RECOMMEND_LABELS",
    "SPLITS",
    "TEXT_DATASETS",
    "DatasetInfo",
    "DatasetNotFoundError",
    "iter_texts",
    "load",
    "load_lexicon",
    "match_key",
    "normalize_text",
    "test_texts",
    "without_test_texts",
]

ENV_VAR = "CXTEXT_DATA_DIR"
SPLITS = ("train", "dev", "test")
RECOMMEND_LABELS = ("promoter", "detractor")
SPLIT_SEED = "cxtext-datasets-v1"
EVAL_ONLY: frozenset[str] = frozenset({"fa_hotel_reviews_sentifars", "ar_saudi_tourism_reviews"})
LEXICON_NAME = "fa_sentiment_lexicons"
COLUMNS = ("text", "lang", "split", "task", "label", "source_label", "stars", "aspects", "emotions", "domain")


class DatasetNotFoundError(CxtextError, FileNotFoundError):
    """A dataset directory, folder or file is missing, or a name is unknown."""

    code = "E010"


def _candidate_dirs() -> list[Path]:
    repo_root = Path(__file__).resolve().parent.parent
    return [repo_root.parent / "shared" / "datasets", Path.cwd() / ".." / "shared" / "datasets"]


def _default_data_dir() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    candidates = _candidate_dirs()
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    return candidates[0]


DEFAULT_DATA_DIR: Path = _default_data_dir()


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset folder holds and under which terms.

    ``research_only`` is True where the source says non-commercial or states
    no license for third-party data (see the datasets README).
    """

    name: str
    lang: str
    task: str
    license: str
    research_only: bool
    description: str
    source: str


def _info(name, lang, task, license, research_only, description, source) -> tuple[str, DatasetInfo]:
    return name, DatasetInfo(name, lang, task, license, research_only, description, source)


DATASETS: dict[str, DatasetInfo] = dict([
    _info("fa_snappfood", "fa", "sentiment", "none stated (research-only)", True,
          "SnappFood food-delivery comments, HAPPY/SAD; ParsBERT dev/test + a re-split's val/test",
          "conflictednerd/Unsupervised-Style-Transfer@2ae7b92d; "
          "mehdighelich1379/snappfood-sentiment-classification@adc49e00"),
    _info("fa_deepsentipers", "fa", "sentiment", "none stated (research-only)", True,
          "DeepSentiPers: SentiPers product-review sentences, 5 levels, train/test",
          "JoyeBright/DeepSentiPers@5c5ce118"),
    _info("fa_sentipers", "fa", "sentiment", "none stated; made public by the authors (research-only)", True,
          "SentiPers: Digikala electronics review sentences, 5 levels, no split",
          "phosseini/SentiPers@5a8da17f"),
    _info("fa_parsinlu_sentiment", "fa", "absa", "CC BY-NC-SA 4.0", True,
          "ParsiNLU review sentiment: Digikala grocery (with aspects) and movie reviews, train/dev/test",
          "persiannlp/parsinlu@a3b08d0b"),
    _info("fa_pars_absa", "fa", "absa", "none stated (research-only)", True,
          "Pars-ABSA: aspect-term sentiment in Digikala phone reviews, test split only",
          "Titowak/Pars-ABSA@4f71c10a"),
    _info("fa_armanemo", "fa", "emotion", "CC BY-NC-SA 4.0", True,
          "ArmanEmo: 7 emotions in tweets, Instagram and Digikala comments, train/test",
          "Arman-Rayan-Sharif/arman-text-emotion@e38ddd91"),
    _info("fa_shortpersianemo", "fa", "emotion", "GPL-3.0", False,
          "ShortPersianEmo: 5 emotions in short tweets and Digikala comments, train/test",
          "vkiani/ShortPersianEmo@320d3a8a"),
    _info("fa_emopars_filtered", "fa", "emotion",
          "none stated for EmoPars; derived file in an MIT repo (research-only)", True,
          "EmoPars, uncertain tweets removed: 6 binary emotions, mostly emotion-free, no split",
          "AmirAbaskohi/Persian-Emotion-Detection-using-ParsBERT-and-Imbalanced-Data-Handling-Approaches@fcd585c1"),
    _info("fa_digikala_comments_small", "fa", "recommend", "none stated (research-only)", True,
          "Digikala product comments with recommend/not-recommend and a 0-100 satisfaction score, no split",
          "zhpinkman/sentiment-analysis-digikala@6ca05330"),
    _info("fa_taaghche_partial", "fa", "sentiment", "repo MIT; data none stated (research-only)", True,
          "Taaghche e-book app comments, 3 classes from star rates, val/test only",
          "miirzamiir/taaghche-feelings-analyzer@1054dd95"),
    _info("fa_hotel_reviews_sentifars", "fa", "sentiment", "none stated (research-only)", True,
          "Persian hotel reviews and sentences with stars and 3 classes; evaluation only",
          "Text-Mining/Persian-Sentiment-Resources@01846601"),
    _info(LEXICON_NAME, "fa", "lexicon", "PerSent: non-commercial academic; LexiPers: research or commercial "
          "with citation; lexicon-based lists: none stated", True,
          "Persian sentiment lexicons (PerSent, LexiPers adjectives, positive/negative word lists); not texts",
          "Text-Mining/Persian-Sentiment-Resources@01846601"),
    _info("ar_ajgt", "ar", "sentiment", "AFL-3.0", False,
          "AJGT: Jordanian/MSA general tweets, Positive/Negative, no split",
          "komari6/Arabic-twitter-corpus-AJGT@19f8d21a"),
    _info("ar_astd", "ar", "sentiment", "GPL-2.0", False,
          "ASTD: Egyptian tweets, OBJ/POS/NEG/NEUTRAL(mixed), unbalanced train/validation/test",
          "mahmoudnabil/ASTD@0eac69a5"),
    _info("ar_arsas", "ar", "sentiment", "academic research only", True,
          "ArSAS: tweets, Positive/Negative/Neutral/Mixed, LLMeBench train/test",
          "malkaoud/On-the-Effectiveness-of-Fine-Tuning@9b8c08f4"),
    _info("ar_elsahar_multidomain", "ar", "sentiment", "none stated (research-only)", True,
          "ElSahar & El-Beltagy: attraction, product and restaurant reviews, labels from ratings, no split",
          "hadyelsahar/large-arabic-sentiment-analysis-resouces@2a99dc50"),
    _info("ar_semeval2016_absa_hotels", "ar", "absa", "repo MIT (SemEval-2016 task data)", False,
          "SemEval-2016 Task 5 Arabic hotel reviews: sentence-level aspect categories with polarity, train/test",
          "msmadi/ABSA-Hotels@55cee573"),
    _info("ar_semeval2018_ec", "ar", "emotion", "none stated (research-only)", True,
          "SemEval-2018 Task 1 E-c Arabic tweets: 11 binary emotions, train(+dev)/test",
          "AhmedESamy/EmotionClassifier@c355fb19"),
    _info("ar_emotone", "ar", "emotion", "none stated (research-only)", True,
          "Emotional Tone: Egyptian tweets, 8 emotions, no split",
          "amrmalkhatib/Emotional-Tone@3ee6e4cc"),
    _info("ar_arsentd_lev", "ar", "sentiment", "none stated; AUB copyright (research-only)", True,
          "ArSenTD-LEV: Levantine tweets, 5 levels with targets and topics, no split",
          "alqahtani-y/Tuwaiq-Bootcamp-Project@8347b4b4"),
    _info("ar_saudi_tourism_reviews", "ar", "sentiment", "MIT", False,
          "Saudi tourist-attraction Google Maps reviews, 3 classes; evaluation only",
          "Raneem224/Tourist_Reviews_in-Saudi_Arabia@46ee7f2d"),
    _info("ar_marsa", "ar", "sentiment", "none stated (research-only)", True,
          "MARSA: Saudi tweets in political/social/sport/tech (telecom) domains, train/dev/test per domain",
          "imamu-asa/ASA@2a898378"),
    _info("ar_amazon_eg_aste", "ar", "absa", "MIT", False,
          "Amazon Egypt product reviews: aspect-opinion-polarity triplets and stars, train/dev/test",
          "mennanoseer/AASTE-Arabic-Aspect-Sentiment-Triplet-Extraction@e0c6c8f2"),
])

_SENT5 = {"-2": "negative", "-1": "negative", "0": "neutral", "1": "positive", "2": "positive"}
_ABSA_POLARITY = {"positive": "positive", "negative": "negative", "neutral": "neutral", "conflict": "mixed"}
_HOTEL_ENTITIES = ("HOTEL", "ROOMS", "ROOMS_AMENITIES", "FACILITIES", "FOOD_DRINKS")


def _semeval2016_categories() -> dict[str, Optional[str]]:
    out: dict[str, Optional[str]] = {"SERVICE#GENERAL": "staff", "HOTEL#GENERAL": None, "LOCATION#GENERAL": None}
    for entity in _HOTEL_ENTITIES:
        out[f"{entity}#PRICES"] = "price_value"
        out[f"{entity}#MISCELLANEOUS"] = None
        for attribute in ("QUALITY", "CLEANLINESS", "COMFORT", "DESIGN_FEATURES", "STYLE_OPTIONS"):
            out[f"{entity}#{attribute}"] = "product_quality"
        if entity != "HOTEL":
            out[f"{entity}#GENERAL"] = "product_quality"
    return out


#: source label → our label (``None`` = dropped, ``source_label`` keeps it).
#: Keys ``<dataset>`` map labels; ``<dataset>/aspects`` map aspect categories;
#: ``<dataset>/emotions`` map the columns of multi-label sets.
LABEL_MAPS: dict[str, dict[str, Optional[str]]] = {
    "fa_snappfood": {"HAPPY": "positive", "SAD": "negative"},
    "fa_deepsentipers": dict(_SENT5),
    "fa_sentipers": dict(_SENT5),
    "fa_parsinlu_sentiment": {**_SENT5, "3": "mixed"},
    "fa_parsinlu_sentiment/aspects": {
        "طعم": "product_quality", "کیفیت": "product_quality", "ارزش غذایی": "product_quality",
        "ارزش خرید": "price_value", "بسته بندی": "packaging", "ارسال": "delivery",
        "بازی": None, "داستان": None, "کارگردانی": None, "فیلمبرداری": None, "صحنه": None, "موسیقی": None,
        "صدا": None,
    },
    "fa_pars_absa": {"1": "positive", "0": "neutral", "-1": "negative"},
    "fa_armanemo": {"ANGRY": "anger", "HATE": "disgust", "FEAR": "fear", "HAPPY": "joy", "SAD": "sadness",
                    "SURPRISE": "surprise", "OTHER": "neutral"},
    "fa_shortpersianemo": {"HAPPY": "joy", "SAD": "sadness", "ANGRY": "anger", "FEAR": "fear", "OTHER": "neutral"},
    "fa_emopars_filtered/emotions": {"Anger": "anger", "Fear": "fear", "Happiness": "joy", "Hatred": "disgust",
                                     "Sadness": "sadness", "Wonder": "surprise"},
    "fa_digikala_comments_small": {"1": "promoter", "2": "detractor", "3": None},
    "fa_taaghche_partial": {"0": "negative", "1": "neutral", "2": "positive"},
    "fa_hotel_reviews_sentifars": {"0": "negative", "1": "mixed", "2": "positive"},
    "ar_ajgt": {"Positive": "positive", "Negative": "negative"},
    "ar_astd": {"POS": "positive", "NEG": "negative", "NEUTRAL": "mixed", "OBJ": "neutral"},
    "ar_arsas": {"Positive": "positive", "Negative": "negative", "Neutral": "neutral", "Mixed": "mixed"},
    "ar_elsahar_multidomain": {"1": "positive", "-1": "negative", "0": "neutral"},
    "ar_emotone": {"none": "neutral", "anger": "anger", "joy": "joy", "sadness": "sadness", "surprise": "surprise",
                   "fear": "fear", "love": "joy", "sympathy": "sadness"},
    "ar_semeval2018_ec/emotions": {"anger": "anger", "anticipation": None, "disgust": "disgust", "fear": "fear",
                                   "joy": "joy", "love": "joy", "optimism": "joy", "pessimism": "sadness",
                                   "sadness": "sadness", "surprise": "surprise", "trust": None},
    "ar_arsentd_lev": {"very_negative": "negative", "negative": "negative", "neutral": "neutral",
                       "positive": "positive", "very_positive": "positive"},
    "ar_saudi_tourism_reviews": {"1": "positive", "0": "negative", "2": "neutral"},
    "ar_marsa": {"pos": "positive", "neg": "negative", "neut": "neutral"},
    "ar_semeval2016_absa_hotels": dict(_ABSA_POLARITY),
    "ar_semeval2016_absa_hotels/aspects": _semeval2016_categories(),
    "ar_amazon_eg_aste": {"1": "negative", "2": "negative", "3": "neutral", "4": "positive", "5": "positive"},
    "ar_amazon_eg_aste/polarity": {"POS": "positive", "NEG": "negative", "NEU": "neutral", "[POS]": "positive",
                                   "ENG": None},
}

#: Aspect-term rules for the term-level ABSA sets (Pars-ABSA, Amazon-EG): the
#: first pattern found in the term gives the aspect (``None`` = drop: the
#: retailer's name, an opinion on the shop as a whole); a term no rule matches
#: names the product or a part or property of it → product_quality; terms of
#: fewer than 2 word characters (``و``, ``.``) are annotation slips → dropped.
ASPECT_TERM_RULES: dict[str, tuple[tuple[str, Optional[str]], ...]] = {
    "fa": (
        (r"دیجی ?کالا|دیجیکالا", None),
        (r"قیمت|ارزش خرید|ارزان|گرون|گران(?!یت)|هزینه", "price_value"),
        (r"ارسال|تحویل|(?<!\S)پست|(?<!\S)پیک(?!\S)", "delivery"),
        (r"بسته ?بندی|جعبه|کارتن", "packaging"),
        (r"موجودی|ناموجود", "availability"),
        (r"پشتیبانی|گارانتی|خدمات پس از فروش|فروشنده", "customer_support"),
        (r"مرجوع|بازگشت وجه|پس دادن", "returns_refunds"),
        (r"سایت|اپلیکیشن|(?<!\S)اپ(?!\S)", "digital_experience"),
    ),
    "ar": (
        (r"سعر|ثمن|(?<!\S)[وبل]?(?:ال)?تمن(?:ه|ها|هم)?(?!\S)", "price_value"),
        (r"ارجاع|إرجاع|استرجاع|استرداد|استبدال|مرتجع", "returns_refunds"),
        (r"المبلغ|الدفع|فاتور|فيزا|كاش", "billing_payment"),
        (r"توصيل|شحن|مندوب|اوردر|أوردر|الطلبي|(?<!\S)الطلب(?!\S)", "delivery"),
        (r"تغليف|العلبه|العلبة|كرتون", "packaging"),
        (r"متوفر|توفر", "availability"),
        (r"بائع|خدمه العملاء|خدمة العملاء|شغالين|موظف|الدعم", "customer_support"),
        (r"موقع|التطبيق|ابلكيشن|ابليكيشن", "digital_experience"),
        (r"امازون|أمازون", None),
    ),
}
_TERM_RULES = {lang: tuple((re.compile(p), a) for p, a in rules) for lang, rules in ASPECT_TERM_RULES.items()}

_FOLDS = (*zip("۰۱۲۳۴۵۶۷۸۹", "0123456789"), *zip("٠١٢٣٤٥٦٧٨٩", "0123456789"),
          ("ي", "ی"), ("ى", "ی"), ("ئ", "ی"), ("ك", "ک"), ("ۀ", "ه"), ("ة", "ه"), ("أ", "ا"), ("إ", "ا"),
          ("آ", "ا"), ("ٱ", "ا"), ("ؤ", "و"), ("ـ", ""))
_NON_WORD = re.compile(r"[\W_]+")


def normalize_text(text: str) -> str:
    """Strip and collapse whitespace: the form :func:`test_texts` returns.

    >>> normalize_text("  a \\n b ")
    'a b'
    """
    return " ".join(str(text).split())


def match_key(text: str) -> str:
    """The key that decides "same text" for de-duplication and leak removal.

    NFKC, case-folded, every non-word character (spaces, punctuation, ZWNJ,
    diacritics, emoji) removed, Arabic/Persian yeh, kaf, alef and heh
    variants, tatweel and digits folded. A text with no word character keeps
    its :func:`normalize_text` form.

    >>> match_key("می‌خوام!") == match_key("مي خوام")
    True
    """
    key = _NON_WORD.sub("", unicodedata.normalize("NFKC", str(text)).casefold())
    for old, new in _FOLDS:  # str.replace per character is far faster than str.translate here
        if old in key:
            key = key.replace(old, new)
    return key or normalize_text(text)


def _bucket(key: str) -> float:
    digest = hashlib.sha1(f"{SPLIT_SEED}\x00{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _hash_split(texts: Iterable[str], held_out: str, fraction: float) -> list[str]:
    return [held_out if _bucket(match_key(t)) < fraction else "train" for t in texts]


def _label_str(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _map(mapping: dict[str, Optional[str]], values: Iterable, dataset: str) -> list[Optional[str]]:
    out = []
    for value in values:
        key = _label_str(value)
        if key not in mapping:
            raise UnsupportedFormatError(f"{dataset}: unexpected source label {key!r}; known: {sorted(mapping)}")
        out.append(mapping[key])
    return out


def _merge_polarity(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Fold pairs to one per aspect: equal → kept; neutral yields; else mixed."""
    merged: dict[str, str] = {}
    for aspect, polarity in pairs:
        old = merged.get(aspect)
        if old is None or old == polarity or old == "neutral":
            merged[aspect] = polarity
        elif polarity != "neutral":
            merged[aspect] = "mixed"
    return sorted(merged.items(), key=lambda p: ASPECTS.index(p[0]))


def _term_aspect(term: str, lang: str) -> Optional[str]:
    if len(_NON_WORD.sub("", term)) < 2:
        return None
    for pattern, aspect in _TERM_RULES[lang]:
        if pattern.search(term):
            return aspect
    return "product_quality"


# --------------------------------------------------------------------------- files


def _folder(data_dir: Path, name: str) -> Path:
    folder = data_dir / name
    if not folder.is_dir():
        looked = [str(data_dir)] if data_dir != DEFAULT_DATA_DIR else [str(p) for p in _candidate_dirs()]
        raise DatasetNotFoundError(
            f"dataset folder {name!r} not found at {folder} (data directory looked in: {', '.join(looked)}); "
            f"pass --data-dir / data_dir=... or set {ENV_VAR} to the folder that holds the dataset folders"
        )
    return folder


def _file(folder: Path, filename: str) -> Path:
    path = folder / filename
    if not path.is_file():
        raise DatasetNotFoundError(f"file {path} not found; the dataset folder {folder} is incomplete")
    return path


def _read_tsv(path: Path, names: list[str]) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", header=None, names=names, quoting=csv.QUOTE_NONE, dtype=str,
                       keep_default_na=False, encoding="utf-8")


def _jsonl(path: Path, literal: bool = False) -> list[dict]:
    parse: Callable[[str], dict] = ast.literal_eval if literal else json.loads
    with path.open(encoding="utf-8") as fh:
        return [parse(line) for line in fh if line.strip()]


def _frame(texts, split, task, label, source_label, domain, **extra) -> pd.DataFrame:
    frame = pd.DataFrame({"text": list(texts)})
    n = len(frame)
    for column, value in (("split", split), ("task", task), ("label", label), ("source_label", source_label),
                          ("domain", domain), *extra.items()):
        frame[column] = value if isinstance(value, list) else [value] * n
    return frame


# --------------------------------------------------------------------------- readers


def _read_snappfood(folder: Path) -> pd.DataFrame:
    labels = LABEL_MAPS["fa_snappfood"]
    test = pd.read_csv(_file(folder, "parsbert_test.csv"), dtype=str, keep_default_na=False)
    pool = pd.concat([pd.read_csv(_file(folder, f), dtype=str, keep_default_na=False)[["comment", "label"]]
                      for f in ("parsbert_dev.csv", "resplit_validation.csv", "resplit_test.csv")], ignore_index=True)
    test_keys = {normalize_text(t) for t in test["comment"]}
    pool = pool[~pool["comment"].map(normalize_text).isin(test_keys)]
    pool = _dedup(pool.assign(text=pool["comment"].str.strip(), label=_map(labels, pool["label"], "fa_snappfood"),
                              source_label=pool["label"]))
    parts = [
        _frame(test["comment"], "test", "sentiment", _map(labels, test["label"], "fa_snappfood"),
               list(test["label"]), "food_delivery"),
        _frame(pool["text"], _hash_split(pool["text"], "dev", 0.10), "sentiment", list(pool["label"]),
               list(pool["source_label"]), "food_delivery"),
    ]
    return pd.concat(parts, ignore_index=True)


def _read_sent5_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, header=None, names=["text", "label"], dtype=str, keep_default_na=False)


def _read_deepsentipers(folder: Path) -> pd.DataFrame:
    parts = []
    for filename, split in (("original.csv", "train"), ("test.csv", "test")):
        raw = _read_sent5_csv(_file(folder, filename))
        parts.append(_frame(raw["text"], split, "sentiment", _map(_SENT5, raw["label"], "fa_deepsentipers"),
                            [_label_str(v) for v in raw["label"]], "product_reviews"))
    return pd.concat(parts, ignore_index=True)


def _read_sentipers(folder: Path, data_dir: Path) -> pd.DataFrame:
    raw = pd.read_excel(_file(folder, "sentipers.xlsx"), dtype={"text": str})
    raw = raw[raw["text"].notna()]
    deep = _load_cached("fa_deepsentipers", str(data_dir))
    deep_test = {match_key(t) for t in deep.loc[deep["split"] == "test", "text"]}
    split = ["test" if match_key(t) in deep_test else "train" for t in raw["text"]]
    return _frame(raw["text"], split, "sentiment", _map(_SENT5, raw["polarity"], "fa_sentipers"),
                  [_label_str(v) for v in raw["polarity"]], "product_reviews")


def _read_parsinlu(folder: Path) -> pd.DataFrame:
    labels = LABEL_MAPS["fa_parsinlu_sentiment"]
    aspect_map = LABEL_MAPS["fa_parsinlu_sentiment/aspects"]
    food_split = {}
    for split in ("dev", "test"):
        for row in _jsonl(_file(folder, f"food_{split}.jsonl")):
            food_split[match_key(row["review"])] = split
    food = _jsonl(_file(folder, "food.jsonl"))
    aspects = []
    for row in food:
        pairs = []
        for name, value in row["aspects"].items():
            value = _label_str(value)
            if aspect_map[name] is not None and value in labels:
                pairs.append((aspect_map[name], labels[value]))
        aspects.append(_merge_polarity(pairs))
    parts = [_frame([r["review"] for r in food], [food_split.get(match_key(r["review"]), "train") for r in food],
                    "absa", _map(labels, [r["sentiment"] for r in food], "fa_parsinlu_sentiment"),
                    [_label_str(r["sentiment"]) for r in food], "grocery", aspects=aspects)]
    for split in SPLITS:
        rows = [r for r in _jsonl(_file(folder, f"movie_{split}.jsonl")) if r["aspect"] == "کلی"]
        parts.append(_frame([r["review"] for r in rows], split, "sentiment",
                            _map(labels, [r["label"] for r in rows], "fa_parsinlu_sentiment"),
                            [_label_str(r["label"]) for r in rows], "movies"))
    return pd.concat(parts, ignore_index=True)


def _read_pars_absa(folder: Path) -> pd.DataFrame:
    labels = LABEL_MAPS["fa_pars_absa"]
    lines = _file(folder, "Pars-ABSA_test.txt").read_text(encoding="utf-8").splitlines()
    if len(lines) % 3:
        raise UnsupportedFormatError(f"Pars-ABSA_test.txt has {len(lines)} lines, not 3 per sample")
    grouped: dict[str, list[tuple[str, str]]] = {}
    for i in range(0, len(lines), 3):
        template, target, polarity = lines[i], lines[i + 1].strip(), lines[i + 2].strip()
        text = template.replace("$T$", target).strip()
        grouped.setdefault(text, []).append((target, polarity))
    texts = list(grouped)
    targets = [[(t, labels[p]) for t, p in grouped[text]] for text in texts]
    aspects = [_merge_polarity((a, pol) for t, pol in tg if (a := _term_aspect(t, "fa")) is not None)
               for tg in targets]
    source = ["|".join(f"{t}={p}" for t, p in grouped[text]) for text in texts]
    return _frame(texts, "test", "absa", None, source, "product_reviews", aspects=aspects, targets=targets)


def _read_armanemo(folder: Path) -> pd.DataFrame:
    labels = LABEL_MAPS["fa_armanemo"]
    parts = []
    for split in ("train", "test"):
        raw = _read_tsv(_file(folder, f"{split}.tsv"), ["text", "label"])
        parts.append(_frame(raw["text"], split, "emotion", _map(labels, raw["label"], "fa_armanemo"),
                            list(raw["label"]), "social_media"))
    return pd.concat(parts, ignore_index=True)


def _read_shortpersianemo(folder: Path) -> pd.DataFrame:
    labels = LABEL_MAPS["fa_shortpersianemo"]
    parts = []
    for split in ("train", "test"):
        raw = pd.read_excel(_file(folder, f"{split}_fa.xlsx"), header=None, names=["text", "label"], dtype=str)
        raw = raw[raw["text"].notna()]
        parts.append(_frame(raw["text"], split, "emotion", _map(labels, raw["label"], "fa_shortpersianemo"),
                            [_label_str(v) for v in raw["label"]], "social_media"))
    return pd.concat(parts, ignore_index=True)


def _multilabel(rows: pd.DataFrame, columns: dict[str, Optional[str]]) -> tuple[list, list, list]:
    """(emotions, label, source_label) for binary emotion columns."""
    emotions, labels, sources = [], [], []
    for values in rows[list(columns)].astype(int).itertuples(index=False):
        present = [c for c, v in zip(columns, values) if v == 1]
        ours = sorted({columns[c] for c in present if columns[c] is not None}, key=EMOTION_LABELS.index)
        emotions.append(ours)
        if len(ours) == 1:
            labels.append(ours[0])
        elif not present:
            labels.append("neutral")
        else:
            labels.append(None)
        sources.append(",".join(present) or "none")
    return emotions, labels, sources


def _read_emopars(folder: Path) -> pd.DataFrame:
    raw = pd.read_csv(_file(folder, "emopars_uncertain_removed.csv"), index_col=0, dtype={"text": str})
    raw = raw[raw["text"].notna()]
    emotions, labels, sources = _multilabel(raw, LABEL_MAPS["fa_emopars_filtered/emotions"])
    return _frame(raw["text"], _hash_split(raw["text"], "test", 0.2), "emotion", labels, sources, "tweets",
                  emotions=emotions)


def _read_digikala(folder: Path) -> pd.DataFrame:
    raw = pd.read_csv(_file(folder, "digikala_comments.csv"), dtype={"Text": str})
    raw = raw[raw["Text"].notna()]
    return _frame(raw["Text"], _hash_split(raw["Text"], "test", 0.2), "recommend",
                  _map(LABEL_MAPS["fa_digikala_comments_small"], raw["Suggestion"], "fa_digikala_comments_small"),
                  [_label_str(v) for v in raw["Suggestion"]], "product_reviews",
                  stars=[1.0 + 4.0 * float(s) / 100.0 for s in raw["Score"]])


def _read_taaghche(folder: Path) -> pd.DataFrame:
    parts = []
    for filename, split in (("val.csv", "dev"), ("test.csv", "test")):
        raw = pd.read_csv(_file(folder, filename), dtype={"text": str})
        raw = raw[raw["text"].notna()]
        parts.append(_frame(raw["text"], split, "sentiment",
                            _map(LABEL_MAPS["fa_taaghche_partial"], raw["label"], "fa_taaghche_partial"),
                            [_label_str(v) for v in raw["label"]], "ebooks"))
    return pd.concat(parts, ignore_index=True)


def _read_sentifars(folder: Path) -> pd.DataFrame:
    path = _file(folder, "Labeled-Sentences.xlsx")
    labels = LABEL_MAPS["fa_hotel_reviews_sentifars"]
    parts = []
    for sheet, text_col, star_col, unit in (("Sheet1", "review", "stars", "review"),
                                            ("Sheet2", "Unnamed: 0", "star", "sentence")):
        raw = pd.read_excel(path, sheet_name=sheet)
        raw = raw[raw[text_col].notna() & raw["label"].notna()]
        parts.append(_frame(raw[text_col].astype(str), "test", "sentiment",
                            _map(labels, raw["label"], "fa_hotel_reviews_sentifars"),
                            [_label_str(v) for v in raw["label"]], "hotels",
                            stars=[float(s) for s in raw[star_col]], unit=unit))
    return pd.concat(parts, ignore_index=True)


def _read_ajgt(folder: Path) -> pd.DataFrame:
    raw = pd.read_excel(_file(folder, "AJGT.xlsx"), dtype={"Feed": str})
    raw = raw[raw["Feed"].notna()]
    return _frame(raw["Feed"], _hash_split(raw["Feed"], "test", 0.2), "sentiment",
                  _map(LABEL_MAPS["ar_ajgt"], raw["Sentiment"], "ar_ajgt"), list(raw["Sentiment"].str.strip()),
                  "tweets")


def _read_astd(folder: Path) -> pd.DataFrame:
    raw = _read_tsv(_file(folder, "Tweets.txt"), ["text", "label"])
    split = [None] * len(raw)
    for filename, name in (("train", "train"), ("validation", "dev"), ("test", "test")):
        for index in _file(folder, f"4class-unbalanced-{filename}.txt").read_text().split():
            split[int(index)] = name
    raw = raw.assign(split=split)
    raw = raw[raw["split"].notna()]
    return _frame(raw["text"], list(raw["split"]), "sentiment", _map(LABEL_MAPS["ar_astd"], raw["label"], "ar_astd"),
                  list(raw["label"]), "tweets")


def _read_arsas(folder: Path) -> pd.DataFrame:
    parts = []
    for split in ("train", "test"):
        raw = _read_tsv(_file(folder, f"ArSAS-{split}.txt"), ["text", "label"])
        parts.append(_frame(raw["text"], split, "sentiment", _map(LABEL_MAPS["ar_arsas"], raw["label"], "ar_arsas"),
                            list(raw["label"]), "tweets"))
    return pd.concat(parts, ignore_index=True)


def _read_elsahar(folder: Path) -> pd.DataFrame:
    parts = []
    for filename, domain in (("ATT.csv", "attractions"), ("PROD.csv", "products"), ("RES1.csv", "restaurants"),
                             ("RES2.csv", "restaurants")):
        raw = pd.read_csv(_file(folder, filename), dtype={"text": str})
        raw = raw[raw["text"].notna()]
        parts.append(pd.DataFrame({"text": raw["text"], "source_label": [_label_str(v) for v in raw["polarity"]],
                                   "domain": domain}))
    raw = pd.concat(parts, ignore_index=True)
    return _frame(raw["text"], _hash_split(raw["text"], "test", 0.2), "sentiment",
                  _map(LABEL_MAPS["ar_elsahar_multidomain"], raw["source_label"], "ar_elsahar_multidomain"),
                  list(raw["source_label"]), list(raw["domain"]))


def _read_emotone(folder: Path) -> pd.DataFrame:
    raw = pd.read_csv(_file(folder, "Emotional-Tone-Dataset.csv"), dtype=str)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw[raw["TWEET"].notna()]
    return _frame(raw["TWEET"], _hash_split(raw["TWEET"], "test", 0.2), "emotion",
                  _map(LABEL_MAPS["ar_emotone"], raw["LABEL"], "ar_emotone"), list(raw["LABEL"].str.strip()), "tweets")


def _read_semeval2018(folder: Path) -> pd.DataFrame:
    columns = LABEL_MAPS["ar_semeval2018_ec/emotions"]
    parts = []
    for filename, split in (("Emotion_trainingSet.txt", "train"), ("Emotion_testingSet.txt", "test")):
        raw = _read_tsv(_file(folder, filename), ["id", "text", *columns])
        emotions, labels, sources = _multilabel(raw, columns)
        parts.append(_frame(raw["text"], split, "emotion", labels, sources, "tweets", emotions=emotions))
    return pd.concat(parts, ignore_index=True)


def _read_arsentd(folder: Path) -> pd.DataFrame:
    raw = pd.read_csv(_file(folder, "ArSenTD-LEV.tsv"), sep="\t", dtype=str)
    raw = raw[raw["Tweet"].notna()]
    return _frame(raw["Tweet"], _hash_split(raw["Tweet"], "test", 0.2), "sentiment",
                  _map(LABEL_MAPS["ar_arsentd_lev"], raw["Sentiment"], "ar_arsentd_lev"),
                  list(raw["Sentiment"].str.strip()), "tweets", target=list(raw["Sentiment_Target"]))


def _read_saudi_tourism(folder: Path) -> pd.DataFrame:
    raw = pd.read_csv(_file(folder, "saudi_tourism_reviews.csv"), sep=";", encoding="utf-8-sig", dtype=str)
    raw = raw[raw["div_text"].notna()]
    return _frame(raw["div_text"], "test", "sentiment",
                  _map(LABEL_MAPS["ar_saudi_tourism_reviews"], raw["label"], "ar_saudi_tourism_reviews"),
                  [_label_str(v) for v in raw["label"]], "attractions")


def _read_marsa(folder: Path) -> pd.DataFrame:
    parts = []
    for domain in ("Political", "Social", "Sport", "Tech"):
        for stem, split in (("Training_80pct", "train"), ("Development_10pct", "dev"), ("Testing_10pct", "test")):
            raw = pd.read_csv(_file(folder, f"{domain}_{stem}.csv"), dtype=str)
            raw = raw[raw["Tweet"].notna()]
            parts.append(_frame(raw["Tweet"], split, "sentiment",
                                _map(LABEL_MAPS["ar_marsa"], raw["Polarity"], "ar_marsa"),
                                list(raw["Polarity"].str.strip()), domain.lower()))
    return pd.concat(parts, ignore_index=True)


def _read_semeval2016(folder: Path) -> pd.DataFrame:
    polarity = LABEL_MAPS["ar_semeval2016_absa_hotels"]
    categories = LABEL_MAPS["ar_semeval2016_absa_hotels/aspects"]
    texts, splits, aspects, sources = [], [], [], []
    for filename, split in (("AR_Hotels_Train_SB1.xml", "train"), ("AR_HOTE_SB1_TEST.xml.gold", "test")):
        root = ElementTree.parse(_file(folder, filename)).getroot()
        for sentence in root.iter("sentence"):
            if sentence.get("OutOfScope", "").upper() == "TRUE":
                continue
            opinions = [(o.get("category", ""), o.get("polarity", "")) for o in sentence.iter("Opinion")]
            for category, pol in opinions:
                if category not in categories or pol not in polarity:
                    raise UnsupportedFormatError(f"{filename}: unexpected opinion {category}/{pol}")
            texts.append(sentence.findtext("text") or "")
            splits.append(split)
            aspects.append(_merge_polarity((categories[c], polarity[p]) for c, p in opinions
                                           if categories[c] is not None))
            sources.append("|".join(f"{c}={p}" for c, p in opinions))
    return _frame(texts, splits, "absa", None, sources, "hotels", aspects=aspects)


def _read_amazon(folder: Path) -> pd.DataFrame:
    polarity = LABEL_MAPS["ar_amazon_eg_aste/polarity"]
    reviews: dict[str, dict] = {}
    for category in ("health", "fashion", "electronics"):
        with _file(folder, f"{category}_merged.json").open(encoding="utf-8") as fh:
            for review in json.load(fh):
                reviews.setdefault(match_key(review["review_text"]), {**review, "domain": category})
    texts, splits, stars, domains, aspects, targets = [], [], [], [], [], []
    for split in SPLITS:
        for line in _file(folder, f"combined_{split}_triplets.txt").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            text, _, triplets = line.partition("####")
            tokens = text.split()
            found = []
            for aspect_idx, opinion_idx, pol in ast.literal_eval(triplets):
                if polarity.get(pol) is None or max(aspect_idx + opinion_idx) >= len(tokens):
                    continue
                found.append((" ".join(tokens[i] for i in aspect_idx), " ".join(tokens[i] for i in opinion_idx),
                              polarity[pol]))
            review = reviews.get(match_key(text))
            texts.append(text.strip())
            splits.append(split)
            stars.append(float(review["star_rating"]) if review else float("nan"))
            domains.append(review["domain"] if review else "products")
            targets.append(found)
            aspects.append(_merge_polarity((a, p) for term, _, p in found
                                           if (a := _term_aspect(term, "ar")) is not None))
    source = [_label_str(s) if s == s else "" for s in stars]
    labels = [LABEL_MAPS["ar_amazon_eg_aste"].get(s) for s in source]
    return _frame(texts, splits, "absa", labels, source, domains, stars=stars, aspects=aspects, targets=targets)


_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "fa_snappfood": _read_snappfood,
    "fa_deepsentipers": _read_deepsentipers,
    "fa_parsinlu_sentiment": _read_parsinlu,
    "fa_pars_absa": _read_pars_absa,
    "fa_armanemo": _read_armanemo,
    "fa_shortpersianemo": _read_shortpersianemo,
    "fa_emopars_filtered": _read_emopars,
    "fa_digikala_comments_small": _read_digikala,
    "fa_taaghche_partial": _read_taaghche,
    "fa_hotel_reviews_sentifars": _read_sentifars,
    "ar_ajgt": _read_ajgt,
    "ar_astd": _read_astd,
    "ar_arsas": _read_arsas,
    "ar_elsahar_multidomain": _read_elsahar,
    "ar_emotone": _read_emotone,
    "ar_semeval2018_ec": _read_semeval2018,
    "ar_arsentd_lev": _read_arsentd,
    "ar_saudi_tourism_reviews": _read_saudi_tourism,
    "ar_marsa": _read_marsa,
    "ar_semeval2016_absa_hotels": _read_semeval2016,
    "ar_amazon_eg_aste": _read_amazon,
}
# Datasets whose test split we made (hash or overlap), so it is de-duplicated like train.
_MADE_TEST = frozenset({"fa_sentipers", "fa_emopars_filtered", "fa_digikala_comments_small", "ar_ajgt",
                        "ar_elsahar_multidomain", "ar_emotone", "ar_arsentd_lev"})
TEXT_DATASETS: tuple[str, ...] = tuple(name for name in DATASETS if name != LEXICON_NAME)


# --------------------------------------------------------------------------- hygiene


def _signature(frame: pd.DataFrame) -> pd.Series:
    parts = [frame["label"].map(repr)]
    for column in ("emotions", "aspects"):
        if column in frame:
            parts.append(frame[column].map(repr))
    out = parts[0]
    for part in parts[1:]:
        out = out + "\x1f" + part
    return out


def _dedup(frame: pd.DataFrame, keys: Optional[pd.Series] = None) -> pd.DataFrame:
    """Keep one row per key; drop every row of a key whose copies disagree."""
    keys = frame["text"].map(match_key) if keys is None else keys
    signature = _signature(frame)
    agreeing = signature.groupby(keys).transform("nunique") == 1
    return frame[agreeing & ~keys.duplicated()]


def _finalize(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    info = DATASETS[name]
    frame = frame.copy()
    frame["text"] = frame["text"].astype(str).str.strip()
    frame = frame[frame["text"] != ""]
    if name in EVAL_ONLY:
        frame["split"] = "test"
    keys = frame["text"].map(match_key)
    is_test, is_dev, is_train = (frame["split"] == s for s in ("test", "dev", "train"))
    test_keys, dev_keys = set(keys[is_test]), set(keys[is_dev])
    keep = ~((is_dev & keys.isin(test_keys)) | (is_train & keys.isin(test_keys | dev_keys)))
    frame, keys = frame[keep], keys[keep]
    parts = []
    for split in SPLITS:
        rows = frame["split"] == split
        made_by_us = split != "test" or name in _MADE_TEST
        parts.append(_dedup(frame[rows], keys[rows]) if made_by_us else frame[rows])
    frame = pd.concat(parts, ignore_index=True)
    frame["lang"] = info.lang
    frame["stars"] = pd.to_numeric(frame["stars"], errors="coerce") if "stars" in frame else float("nan")
    for column in ("label", "aspects", "emotions", "domain"):
        if column not in frame:
            frame[column] = None
    frame["label"] = frame["label"].astype(object).where(frame["label"].notna(), None)
    frame["source_label"] = frame["source_label"].astype(str)
    extra = [c for c in frame.columns if c not in COLUMNS]
    return frame[list(COLUMNS) + extra].reset_index(drop=True)


# --------------------------------------------------------------------------- public


def _resolve(data_dir: Optional[Path | str]) -> Path:
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else DEFAULT_DATA_DIR


@functools.lru_cache(maxsize=None)
def _load_cached(name: str, data_dir: str) -> pd.DataFrame:
    root = Path(data_dir)
    if not root.is_dir():
        looked = [data_dir] if root != DEFAULT_DATA_DIR else [str(p) for p in _candidate_dirs()]
        raise DatasetNotFoundError(
            f"data directory {root} not found (looked in: {', '.join(looked)}); pass --data-dir / data_dir=... "
            f"or set {ENV_VAR} to the folder that holds the dataset folders"
        )
    folder = _folder(root, name)
    raw = _read_sentipers(folder, root) if name == "fa_sentipers" else _READERS[name](folder)
    return _finalize(raw, name)


def load(name: str, data_dir: Optional[Path | str] = None) -> pd.DataFrame:
    """Load one dataset in our label sets with leak-free splits.

    Args:
        name: a folder name from :data:`DATASETS` (not the lexicon folder).
        data_dir: the folder holding the dataset folders; default
            ``$CXTEXT_DATA_DIR`` or :data:`DEFAULT_DATA_DIR`.

    Returns:
        A new DataFrame (safe to modify) with the columns described in the
        module docstring. Parsed frames are cached in-process.

    Raises:
        DatasetNotFoundError: unknown name, or the folder or a file is missing.
        UnsupportedFormatError: ``name`` is the lexicon folder, or a file holds
            a label this module does not know.
    """
    if name == LEXICON_NAME:
        raise UnsupportedFormatError(f"{name!r} holds lexicons, not labelled texts; use load_lexicon()")
    if name not in DATASETS:
        raise DatasetNotFoundError(f"unknown dataset {name!r}; known: {', '.join(TEXT_DATASETS)}")
    frame = _load_cached(name, str(_resolve(data_dir))).copy()
    for column in ("aspects", "emotions", "targets"):
        if column in frame:
            frame[column] = [list(v) if isinstance(v, list) else v for v in frame[column]]
    return frame


def test_texts(lang: Optional[str] = None, data_dir: Optional[Path | str] = None) -> set[str]:
    """Normalised texts (:func:`normalize_text`) of every test split and eval-only set.

    A trainer drops a training text ``t`` when ``normalize_text(t)`` is in this
    set; ``{match_key(t) for t in test_texts()}`` is the stricter check that
    :func:`load` itself uses inside a dataset.

    Args:
        lang: ``"fa"`` or ``"ar"`` to restrict to one language; ``None`` = both.
        data_dir: as for :func:`load`.
    """
    return set(_test_texts(lang, str(_resolve(data_dir))))


def parsinlu_food(df: pd.DataFrame) -> pd.DataFrame:
    """The food part of ParsiNLU sentiment (Digikala grocery reviews, the part
    with aspect labels); its movie reviews have none."""
    return df[df["domain"].astype(str) == "grocery"]


def without_test_texts(df: pd.DataFrame, data_dir: Optional[Path | str] = None) -> pd.DataFrame:
    """``df`` less every row whose text is in :func:`test_texts` (compared by
    :func:`normalize_text`) and less repeated texts: what a trainer may use."""
    banned = _test_texts(None, str(_resolve(data_dir)))
    return df[~df["text"].map(normalize_text).isin(banned)].drop_duplicates("text")


@functools.lru_cache(maxsize=None)
def _test_texts(lang: Optional[str], data_dir: str) -> frozenset[str]:
    out: set[str] = set()
    for name in TEXT_DATASETS:
        if lang is not None and DATASETS[name].lang != lang:
            continue
        frame = _load_cached(name, data_dir)
        out.update(frame.loc[frame["split"] == "test", "text"].map(normalize_text))
    return frozenset(out)


def iter_texts(data_dir: Optional[Path | str] = None) -> Iterator[tuple[str, str, str]]:
    """Yield ``(dataset_name, lang, text)`` for every row of every text dataset, all splits."""
    root = str(_resolve(data_dir))
    for name in TEXT_DATASETS:
        frame = _load_cached(name, root)
        for lang, text in zip(frame["lang"], frame["text"]):
            yield name, lang, text


def load_lexicon(data_dir: Optional[Path | str] = None) -> pd.DataFrame:
    """The Persian sentiment lexicons as one table.

    Returns:
        DataFrame(term, polarity, source, research_only): ``polarity`` is a
        float in [-1, 1] (PerSent's real score; LexiPers' -1/0/+1 label given
        to every synonym of an adjective synset; +1/-1 for the
        lexicon-based word lists). ``research_only`` is False only for
        LexiPers (research or commercial use with citation).
    """
    folder = _folder(_resolve(data_dir), LEXICON_NAME)
    persent = pd.read_excel(_file(folder, "PerSent.xlsx"), sheet_name="Dataset")
    parts = [pd.DataFrame({"term": persent["Words"].astype(str).str.strip(),
                           "polarity": persent["Polarity"].astype(float), "source": "persent",
                           "research_only": True})]
    rows = []
    root = ElementTree.parse(_file(folder, "lexipers_adj-final.xml")).getroot()
    for synset in root.iter("Synset"):
        for term in (synset.get("Sense") or "").split(","):
            if term.strip():
                rows.append((term.strip(), float(synset.get("Label", "0"))))
    parts.append(pd.DataFrame(rows, columns=["term", "polarity"]).assign(source="lexipers", research_only=False))
    for filename, value in (("lexicon_based_positive.txt", 1.0), ("lexicon_based_negative.txt", -1.0)):
        terms = [t.strip() for t in _file(folder, filename).read_text(encoding="utf-8-sig").splitlines()]
        parts.append(pd.DataFrame({"term": [t for t in terms if t], "polarity": value, "source": "lexicon_based",
                                   "research_only": True}))
    lexicon = pd.concat(parts, ignore_index=True)
    return lexicon[lexicon["term"] != ""].reset_index(drop=True)
