"""Language identification for customer feedback: Persian, Arabic, English.

Why rules and not character n-grams or an off-the-shelf model: the hard case
is Persian typed on an Arabic keyboard layout (ي/ك instead of ی/ک, sometimes ى
for every final ya) or short Persian with no Persian-only letter at all («اين
محصول عالي است»), against dialectal Arabic, which general-purpose identifiers
often call Persian (and Arabic with ة written ه, which looks Persian letter by
letter). What separates the two is grammar, so the detector adds up
*linguistic cues*, each a hand-set log-odds weight (positive = Persian,
negative = Arabic):

* letters: پ چ ژ گ and Persian ی/ک (Persian; capped, and پ چ ژ گ count less on
  an Arabic layout, where Iraqi and Gulf Arabic write گ/چ), ة, ى and a
  word-initial أ/إ (Arabic), ZWNJ and ۀ (Persian), Persian digits ۰-۹ vs
  Arabic-Indic ٠-٩;
* function words and frequent words, looked up after folding ي→ی and ك→ک so
  that Arabic-keyboard Persian still matches: «است», «را», «که», «خیلی»,
  «برای», «هست» … vs «في», «على», «هذا», «الذي», and dialect markers
  (Egyptian «مش», «اوي», «عايز», «ده»; Gulf «وايد», «مب», «زين»; Levantine
  «كتير», «منيح», «هيك» …), plus a short customer-feedback vocabulary (Persian
  writes the ة of Arabic loanwords as ت: کیفیت، سرعت، قیمت);
* morphology of the other words: the Arabic article ال (and وال، بال، لل،
  هالـ), final ة, imperfect يـ…ون and plural …وا verbs, Arabic enclitics on
  Arabic cue words; Persian verb prefixes می/نمی, plural ها/های, superlative
  ترین, infinitives, contracted «ست», Persian enclitics (ش، م، تون، شون …) on
  Persian cue words;
* when all of that is nearly silent, letter frequencies break the tie
  (ل ع ق ف ح are commoner in Arabic, د ش ز خ in Persian), with a bounded weight.

The sign of the sum picks "fa" or "ar"; its size gives the confidence
(``tanh(|sum| / 2)``: 0 with no evidence, near 1 when sure), capped at 0.45
for a one-word text.

Mixed scripts: Latin letters count for English, Arabic-script letters for
Persian/Arabic; the script with more letters wins and the confidence is
multiplied by its share. Arabic script writes no short vowels, so its letters
count 1.3 times; Latin words with few English function words (brand and model
names: «گوشی Samsung Galaxy S21») count down to a quarter. URLs, e-mails,
@mentions, HTML entities and masked tokens ([URL]) are ignored.

Finglish and Arabizi (Persian/Arabic in Latin letters) come out as ``"en"``
with a low confidence (below 0.5 when no English function word is seen):
telling them from English would need a vocabulary this module does not carry.
No letters at all (``""``, digits, emoji, punctuation), fewer than three Latin
letters («ok») or no cue at all give ``"und"`` with confidence 0. Urdu, which
this module does not know, mostly comes out as "fa".

Speed: two ``str.replace``, two ``re.findall`` and one ``dict`` lookup per word
(a word not in the lexicon goes once through the morphology rules, then is
memoised; at most 100,000 words, about 10 MB): about 35,000 texts per
second of CPU time on one core over the shared datasets (108 characters on
average), 55,000-80,000 for texts of up to 100 characters;
``scripts/eval_langid.py`` prints the figure.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Sequence

from cxtext.errors import InvalidInputError

LANGS = ("fa", "ar", "en", "und")

__all__ = ["LANGS", "LangGuess", "detect_language", "detect_languages"]


@dataclass(frozen=True)
class LangGuess:
    """The detected language of one text and how sure the detector is (0..1)."""

    lang: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"lang": self.lang, "confidence": round(float(self.confidence), 4)}


_UND = LangGuess("und", 0.0)

# --- folding for lookups ---
# The hot path only folds the Arabic keyboard's ي/ك onto Persian ی/ک (two
# str.replace calls, much cheaper than str.translate). ى, rarer variants, harakat
# and tatweel stay inside words and are folded by _morph_weight, once per distinct
# word; ى is kept on the hot path because «على», «إلى», «حتى» are Arabic words
# while «علی» (Ali), «الی», «حتی» are also Persian ones.
_FOLD_TABLE = str.maketrans({
    **{cp: None for cp in range(0x064B, 0x0660)},  # tanwin, harakat, shadda, sukun
    0x0670: None, 0x0640: None, 0x200D: None,       # dagger alif, tatweel, ZWJ
    ord("ي"): "ی", ord("ى"): "ی", ord("ك"): "ک", ord("ە"): "ه", ord("ۀ"): "ه",
    ord("ے"): "ی", ord("ۍ"): "ی", ord("ې"): "ی", ord("ڪ"): "ک", ord("ٱ"): "ا",
})

# The stdlib re is used on the hot path: for plain character classes it is about
# twice as fast as the regex module.
# Arabic-script letters, harakat, tatweel, ZWNJ and ZWJ form words.
_AR_WORD_RE = re.compile(r"[\u0621-\u065F\u066E-\u06D3\u06D5\u200C\u200D]+")
_LATIN_RE = re.compile(r"[A-Za-z\u00C0-\u024F]+")
_PRESENTATION_RE = re.compile(r"[\uFB50-\uFDFF\uFE70-\uFEFC]")
# Repeated letters (خیلیییی, جدااااا) are folded to two before lookup.
_ELONG_RE = re.compile(r"(.)\1{2,}")
# URLs, e-mails, @mentions, HTML entities and masked tokens ([URL], [PHONE])
# say nothing about the language.
_NOISE_RE = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|@\w+|&[a-z]+;|&#\d+;|\[[A-Z_]+\]")
# Three Latin-1 letters in a row that cp1256 maps to Arabic letters.
_MOJIBAKE_RE = re.compile(r"[\u00C0-\u00FF]{3}")

# --- letter cues: (weight per occurrence, cap on the number counted) ---
_W_FA_LETTER, _CAP_FA_LETTER = 1.6, 4  # پ چ ژ گ
_W_FA_LETTER_AR_KEYBOARD = 0.8
_W_FA_YEKE, _CAP_FA_YEKE = 0.9, 8        # Persian ی (U+06CC) and ک (U+06A9)
_W_AR_YEKE, _CAP_AR_YEKE = -0.15, 6      # Arabic ي / ك: weak, Persian keyboards vary
_W_TA_MARBUTA, _CAP_TA_MARBUTA = -2.0, 4
_W_ALEF_MAKSURA, _CAP_ALEF_MAKSURA = -0.3, 4  # ى: Arabic, and Egyptian final ya; rare in Persian
_W_HAMZA_INITIAL, _CAP_HAMZA_INITIAL = -0.9, 4
_W_ZWNJ, _CAP_ZWNJ = 1.6, 4
_W_FA_DIGIT, _CAP_FA_DIGIT = 0.8, 3
_W_AR_DIGIT, _CAP_AR_DIGIT = -0.5, 3     # some Persian phone keyboards type them too
_W_HEH_YEH = 2.0                          # ۀ (Persian ezafe on final ه)
_HAMZA_INITIAL_RE = re.compile(r"(?<!\w)[أإ]")
_DIGIT_RE = re.compile(r"[\u0660-\u0669\u06F0-\u06F9]")

# --- word cues (keys in folded form: ی ک, no harakat) ---
# Words frequent in one language and rare in the other. Words both use a lot
# (من، ما، هم، بین، فقط، سلام، مثل، بدون، واقعا، یعنی …) are left out or neutral.
_FA_WORDS = (
    # function words, auxiliaries, pronouns, frequent verbs
    (3.0, """است هست هستم هستن هستند هستی هستیم هستید نیست نیستم نیستن نیستند نیستی
        را برای واسه خیلی اینو اینکه اینجا اینطوری اینطور اینقدر همین همون
        اون اونو اونها اونا اینا آن آنها که چون اگه اگر شاید باید نباید یک یکی
        بود بودم بودن بودند بوده بودیم بودش نبود نبودم نبوده شدم شدن شدند شدیم
        نشد نشده میشه نمیشه میشد باشه باشد باشید باشن نباشه کرد کردم کردن کردند کرده
        کردیم نکرد نکردم کنید کنم کنیم کنن کنند کنین نکنید نکنم دارم دارد
        دارند داریم دارن داشت داشتم داشته نداره ندارم ندارد نداشت نداشتم نداشته
        بهتر بهترین بدترین خوب خوبه خوبی خوبیه خوبن خیلیم چرا چی چیه چیزی
        چطور همش هیچ هیچی دیگه دیگر بله آره ممنونم شما شماها
        خودم خودش خودت خودتون خودشون وقتی بیشتر کمتر
        میخوام میخواد نمیخوام نمیدونم میدونم میکنم میکنه میکنید نمیکنم بگم بگید
        اومد اومده رفتم دیدم ولیکن بسیار زیبا کاش البته درباره راجب راجع
        دوست دوستان خانم میتونه نمیتونه میتونید بشه نشه بدید میدم میدی میده میدن
        نمیده میشم میشی میام میای میاد میره میرم چقدر کردین بودین ازش بهش باهاش
        براش توش ازتون بهتون هنوز خیلیا ایشون ایشان آنرا اینرا بخرم بخرید بخرین
        نخرید نخرین خریدم خریدیم خریدش نداریم ندارید ندارن نداشتیم دارید دارین خواهم خواهد خواهید
        خواهند خواهیم باشین باشیم باشی راضیم اصن نمایید نماید نمود نموده نمودم
        داشتنی دوس تنها مردمی بالا بالای بالایی بالاتر بالاترین بالاخره کالا کالای
        کالاها الکی"""),
    (2.0, """از در تا یه رو نه هر همچنین این همه شد بی دو سه اولین دومین
        بعدش قبلش تو کنه داره هایی یکم یادم یخورده یکبار یکسری"""),
    # ها/های written apart from the noun: Persian plural (Arabic ها is an interjection)
    (1.5, """های ولی شده ممنون حالا بد باسلام برا"""),  # برا: also Egyptian "outside"
    (1.0, """ها با به عالی زیاد بده سلام"""),
)
# Customer-feedback vocabulary. Persian writes the ة of Arabic loanwords as ت
# (کیفیت، سرعت، قیمت، لذت), Arabic as ة (or ه where ة is folded).
_FA_REVIEW_WORDS = (
    (3.0, """خوشمزه بدمزه خوشم خوشگل قشنگ نوشابه برنج سفارش پیک تخفیف فروشنده
        فروشگاه دیجیکالا اسنپ رستوران پشتیبانی داستان نویسنده خوندن خوندم بخونید
        دوربین نمایش باتری گوشی طراحی زیبایی ورزش فیلمبرداری"""),
    (2.5, """کیفیت سرعت قیمت رضایت وضعیت موفقیت فعالیت امنیت ظرفیت صحبت فرصت
        حمایت شکایت قابلیت اهمیت لذت طبیعت مسافت نسبت دقت جالب جالبه افتضاح
        افتضاحه محشره عالیست بالاست رسید نرسید رسیده تازه سرد داغ
        تومن تومان تشکر قوت مالیات هزینه سایت باطری تهیه
        العادست العادس العادن"""),  # فوق‌العاده‌ست, فوق‌العاده‌ان
    # Persian spells with ا the Arabic words that end in ى (محتوى، تقوى، فتوى)
    (2.0, """محتوا پرمحتوا دعوا تقوا فتوا حلوا مقوا شیوا نانوا"""),
    (2.0, """خوش"""),
    (1.5, """محصول غذا مرغ سس بازی دیر عالیه بسته العاده"""),
)
_AR_WORDS = (
    # function words and pronouns of MSA and the dialects, dialect markers
    (-3.0, """فی هذا هذه هذی هاذا هادا هیدا هیدی الذی التی الذین اللی ولکن لان لانه
        لانها لأن لأنه لأنها ایضا أیضا احنا نحن انتم أنتم کانت یکون تکون کانوا لیس
        لیست لست عندی عندک عنده عندها عندهم علیها علیهم علیک منها منهم فیه فیها
        فیهم فیک لها لهم لنا معه معها معاک مش مب اوی أوی عایز عاوز عایزه عاوزه ازای
        إزای فین امتی کده کدا کدة دلوقتی دلوقت لسه برضو برده بتاع بتاعت بتاعه اوعی
        واید شلون شنو اللحین الحین ابغی ابغا یبی تبی حیل کتیر منیح هیک هلق هلأ
        مشان منشان عنجد حدا اشی عشان علشان صار صارت یتم ماذا لماذا هل اذا إذا
        حلو حلوه حلوة مافی مافیه انا أنا انت أنت انتی أنتی عن لم لن عند کان
        ثم ولا لا اللهم لقد لیش لیه انه أنه إنه وهو وهی وهذا ایش"""),
    (-2.0, """لکن دا دول زی شوی شویه شویة قد ان أن إن هو تم وین لو راح رح عم
        کمان مره هاد زین حبیبی کثیر تبع بشکل ماکو مع حیث انو اني کذا
        وش کما أو"""),
    (-1.5, """الی علیه بها مو شو والله سبحان ده"""),
    (-2.0, """منه"""),  # Arabic "from him"; colloquial Persian "is me/mine" (مال منه)
    (-1.0, """الله الحمدلله انشاء ماشاء یارب جدا جدآ کیف هی خلاص شی شیء ابی ال"""),
    (-0.5, """یا کل دی هادی خالص بس ایه"""),
)
_AR_REVIEW_WORDS = (
    (-3.0, """انصح أنصح وانصح انصحکم أنصحکم سأنصح عجبنی اعجبنی أعجبنی حبیت یستاهل
        تستاهل یجنن استلمت وصلنی اشتریت شکرا کویس کویسه کویسة بجد یوجد توجد"""),
    (-2.5, """جید جیده جیدة سیء سیئ سیئه سیئة رائع رائعه رائعة جوده جودة مقاس شاشه
        شاشة بصراحه بصراحة منتج سعر توصیل مطعم اکل أکل فندق رخیص بطیء نظیف"""),
    (-2.0, """جمیل جمیله جمیلة ممیز ممیزه ممیزة زحمه زحمة جهاز مرتاح یدوم غالی مریح صغیر مزدحم
        حاجه حاجة وسخ شحن موظفین"""),
    (-1.5, """ممتازه ممتازة"""),
    (-1.0, """ممتاز"""),
)
# Neutral words that would otherwise trip a morphology rule: Persian words that
# begin like the Arabic article (ال، بال، وال، فال، کال، لل) and words both use.
_NEUTRAL_WORDS = """
    الان الکترونیک الکترونیکی الگو الگوی الهام الو الماس الف الکل الزام الویت
    الهی الا الانم البسه بالاخص والا فالو فالوور بالش بالشت البرز الآن
"""
# Keys that are not folded: ZWNJ inside, or final ى (the Arabic spelling of
# words that Persian also has with ی).
_LEXICON_EXTRA = {"فوق\u200cالعاده": 3.0, "على": -2.5, "إلى": -3.0, "الى": -2.0, "حتى": -1.5,
                  "متى": -3.0, "لدى": -3.0, "اللى": -3.0, "دى": -1.5, "انتى": -3.0, "إنتى": -3.0}


def _build_lexicon() -> dict[str, float]:
    lex: dict[str, float] = {}
    tables = (_FA_WORDS, _FA_REVIEW_WORDS, _AR_WORDS, _AR_REVIEW_WORDS, ((0.0, _NEUTRAL_WORDS),))
    for table in tables:
        for weight, words in table:
            for w in words.split():
                w = w.translate(_FOLD_TABLE)
                if w in lex:
                    raise ValueError(f"lang.py: {w!r} is listed twice")
                lex[w] = weight
    lex.update(_LEXICON_EXTRA)
    return lex


_LEXICON = _build_lexicon()

_FA_VERB_END = ("م", "ی", "د", "ه", "یم", "ید", "ند", "ن", "ین", "ست")
_ARTICLE_PREFIXES = ("وال", "بال")
# Enclitics: Persian possessive/copula (کیفیتش، دوربینم، خوبه، عالیست), Arabic
# object/possessive pronouns (منتجه، جودتها، عندهم). A word whose stem is a cue
# word of the same language inherits part of its weight.
_FA_ENCLITICS = frozenset(("هاشون", "هاتون", "هامون", "هاش", "هام", "هات", "های", "ها", "شون",
                           "تون", "مون", "شم", "ست", "ش", "م", "ت", "ه", "ی", "و", "ن"))
_AR_ENCLITICS = frozenset(("کم", "هم", "ها", "نا", "نی", "ه", "ک"))


def _morph_weight(w: str) -> float:
    """Evidence from the shape of a word that is not in the lexicon."""
    folded = w.translate(_FOLD_TABLE)
    if folded != w:
        return _WORD_WEIGHTS[folded] if folded else 0.0
    if "\u200c" in w:
        return 1.5
    lex = _LEXICON
    n = len(w)
    if n > 3 and _ELONG_RE.search(w):  # خیلیییی, جدااااا: try two, then one
        for short in (_ELONG_RE.sub(r"\1\1", w), _ELONG_RE.sub(r"\1", w)):
            if short in lex:
                return lex[short]
        w = _ELONG_RE.sub(r"\1", w)
        n = len(w)
    if n < 3:
        return 0.0
    if w[0] == "و" and w[1:] in lex:  # و attached to the next word: both languages do it
        return 0.8 * lex[w[1:]]
    for k in range(1, min(5, n - 2)):  # stem of at least 3 letters + enclitic
        weight = lex.get(w[:-k])
        if weight:
            if (weight > 0.0 and w[-k:] in _FA_ENCLITICS) or (weight < 0.0 and w[-k:] in _AR_ENCLITICS):
                return 0.7 * weight
    if w[-1] == "ة":
        return -1.0  # the letter itself is counted once more in _letter_score
    if w.startswith("ال"):
        return -1.5 if n >= 4 else 0.0
    if w.startswith(_ARTICLE_PREFIXES) and n >= 6:
        return -1.5
    if w.startswith("لل") and n >= 5:
        return -1.5
    if w.startswith("هال") and n >= 6:  # Gulf/Levantine demonstrative هالـ
        return -1.5
    if w[0] == "ی" and w.endswith("ون") and n >= 5 and not w.endswith(("شون", "تون", "مون")):
        return -1.5  # Arabic imperfect plural: یقولون، یعملون
    if w.endswith("وا") and n >= 4:  # Arabic plural verbs: قالوا، عملوا، تعالوا
        return -0.8
    if w.startswith("نمی") and n >= 5:
        return 2.0
    if w.startswith("می") and n >= 5 and w.endswith(_FA_VERB_END):
        return 1.5
    if w.endswith(("هایی", "هایم", "هاشون", "هامون", "هاتون")):
        return 2.0
    if w.endswith("های") and n >= 5:
        return 1.5
    if w.endswith("ترین") and n >= 6:
        return 2.0
    if w.endswith(("دن", "تن")) and n >= 5:  # infinitives: خوردن، داشتن
        return 1.0
    if w.endswith("است") and n >= 5:  # contracted copula: زیباست، کجاست
        return 1.0
    if w[0] == "ی" and n >= 4:  # Arabic imperfect verbs: یعمل، یکون، یسجل
        return -0.4
    return 0.0


class _WordWeights(dict):
    """The lexicon plus a memo of the morphology weights of words seen before.

    Lookups are ``dict`` lookups (``sum(map(weights.__getitem__, words))`` runs
    in C); a miss computes :func:`_morph_weight` once. The memo is emptied when
    it reaches ``_MAX_WORDS`` entries, so memory stays bounded on endless streams
    while the frequent words come back at once.
    """

    _MAX_WORDS = 100_000

    def __missing__(self, w: str) -> float:
        weight = _morph_weight(w)
        if len(self) >= self._MAX_WORDS:
            self.clear()
            self.update(_LEXICON)
        self[w] = weight
        return weight


_WORD_WEIGHTS = _WordWeights(_LEXICON)

# Letter frequencies differ between the languages (Arabic: ل ع ق ف ح ض ظ ث ذ are
# frequent; Persian: د ش ز خ). Used only to break ties when no stronger cue is
# found, with weights of a quarter of the log frequency ratio and a bounded total.
_TIEBREAK_LETTERS = (("ل", -0.4), ("ع", -0.3), ("ق", -0.25), ("ف", -0.25), ("ح", -0.2),
                     ("ض", -0.3), ("ظ", -0.3), ("ث", -0.3), ("ذ", -0.2),
                     ("د", 0.18), ("ش", 0.22), ("ز", 0.3), ("خ", 0.12))
_TIEBREAK_MAX = 0.8
_ONE_WORD_MAX = 0.45
_ABJAD_FACTOR = 1.3

# English function words: Latin text with none of them may be Finglish/Arabizi.
_EN_WORDS = frozenset("""
    the a an is are was were be been am i you he she it we they my your our their this that
    these those and or but not no of to in on at for with from by as so very too good bad
    great nice best worst excellent poor product service quality price delivery
    do does did have has had will would can could should what when where why how
    love like recommend thanks thank please ok okay just really all
""".split())


def detect_language(text: str) -> LangGuess:
    """Guess the language of one text: "fa", "ar", "en" or "und".

    Args:
        text: the raw text as the user wrote it.

    Returns:
        A :class:`LangGuess`; ``confidence`` is 0 for "und" with no letters.

    Raises:
        InvalidInputError: if ``text`` is not a ``str``.

    Examples:
        >>> detect_language("این محصول عالی است").lang
        'fa'
        >>> detect_language("المنتج ده حلو اوي").lang
        'ar'
    """
    if not isinstance(text, str):
        raise InvalidInputError(
            f"detect_language() takes a str, got {type(text).__name__}; "
            "convert the value to text (or drop it) before calling.")
    return _detect(text)


def detect_languages(texts: Sequence[str]) -> list[LangGuess]:
    """Batch form of :func:`detect_language`; results are in the input order.

    Raises:
        InvalidInputError: if ``texts`` is a single ``str`` or holds a non-``str``.
    """
    if isinstance(texts, str):
        raise InvalidInputError(
            "detect_languages() takes a sequence of texts, got a single str; "
            "use detect_language(text) or pass [text].")
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InvalidInputError(
                f"detect_languages(): item {i} is {type(t).__name__}, not str; "
                "convert or drop non-text values first.")
        out.append(_detect(t))
    return out


def _detect(text: str, repair: bool = True) -> LangGuess:
    if _PRESENTATION_RE.search(text):
        text = unicodedata.normalize("NFKC", text)
    if "http" in text or "www." in text or "@" in text or "&" in text or "[" in text:
        text = _NOISE_RE.sub(" ", text)
    words = _AR_WORD_RE.findall(text.replace("ي", "ی").replace("ك", "ک"))
    # Arabic script leaves short vowels unwritten: the same words take about a
    # third fewer letters than in Latin script, so its letters count 1.3 times.
    n_ar = _ABJAD_FACTOR * sum(map(len, words))
    latin = _LATIN_RE.findall(text)
    if not latin:
        if not n_ar:
            return _UND
        return _persian_or_arabic(text, words, 1.0)
    n_lat = sum(map(len, latin))
    en_hits = sum(1 for w in latin if w.lower() in _EN_WORDS)
    # Latin words with few English function words among them are mostly brand and
    # model names inside a Persian/Arabic sentence («گوشی Samsung Galaxy S3 Neo»):
    # they weigh down to a quarter as much. English prose has one in every two or
    # three words.
    n_lat_eff = n_lat * max(0.25, min(1.0, 3.0 * en_hits / len(latin)))
    if n_lat_eff > n_ar:
        if repair and _MOJIBAKE_RE.search(text):
            repaired = _repair_mojibake(text)
            if repaired is not None:
                guess = _detect(repaired, repair=False)
                return LangGuess(guess.lang, round(0.8 * guess.confidence, 4))
        return _english(latin, n_lat, en_hits, n_ar)
    return _persian_or_arabic(text, words, n_ar / (n_ar + n_lat_eff))


def _persian_or_arabic(text: str, words: list[str], share: float) -> LangGuess:
    score = _letter_score(text) + sum(map(_WORD_WEIGHTS.__getitem__, words))
    if -2.0 < score < 2.0:
        tie = 0.0
        for ch, weight in _TIEBREAK_LETTERS:
            c = text.count(ch)
            if c:
                tie += weight * c
        score += max(-_TIEBREAK_MAX, min(_TIEBREAK_MAX, tie))
    if score == 0.0:
        return LangGuess("und", 0.0)
    # tanh(|score| / 2) = 2 * sigmoid(|score|) - 1: 0 with no evidence, near 1 when sure.
    certainty = math.tanh(abs(score) / 2.0)
    if len(words) == 1:  # one word is never conclusive («لا», «ممتاز», «سلام»)
        certainty = min(certainty, _ONE_WORD_MAX)
    return LangGuess("fa" if score > 0.0 else "ar", round(certainty * share, 4))


def _repair_mojibake(text: str) -> str | None:
    """Windows-1256 Arabic/Persian read as Latin-1 («ÇáÍãÏ» for «الحمد»)."""
    try:
        repaired = text.encode("cp1252").decode("cp1256")
    except UnicodeError:
        try:
            repaired = text.encode("latin-1").decode("cp1256")
        except UnicodeError:
            return None
    return repaired if _AR_WORD_RE.search(repaired) else None


def _letter_score(text: str) -> float:
    s = 0.0
    fa_yeke = text.count("ی") + text.count("ک")
    if fa_yeke:
        s += _W_FA_YEKE * min(fa_yeke, _CAP_FA_YEKE)
    ar_yeke = text.count("ي") + text.count("ك")
    if ar_yeke:
        s += _W_AR_YEKE * min(ar_yeke, _CAP_AR_YEKE)
    c = text.count("پ") + text.count("چ") + text.count("ژ") + text.count("گ")
    if c:
        # Iraqi and Gulf Arabic write گ/چ for their g/ch sounds, on an Arabic
        # keyboard layout (ي/ك): there the letters count for less.
        weight = _W_FA_LETTER_AR_KEYBOARD if ar_yeke and not fa_yeke else _W_FA_LETTER
        s += weight * min(c, _CAP_FA_LETTER)
    c = text.count("ة")
    if c:
        s += _W_TA_MARBUTA * min(c, _CAP_TA_MARBUTA)
    c = text.count("ى")
    if c:
        s += _W_ALEF_MAKSURA * min(c, _CAP_ALEF_MAKSURA)
    if "أ" in text or "إ" in text:
        c = len(_HAMZA_INITIAL_RE.findall(text))
        s += _W_HAMZA_INITIAL * min(c, _CAP_HAMZA_INITIAL)
    c = text.count("\u200c")
    if c:
        s += _W_ZWNJ * min(c, _CAP_ZWNJ)
    if "ۀ" in text:
        s += _W_HEH_YEH
    if _DIGIT_RE.search(text):
        digits = _DIGIT_RE.findall(text)
        c = sum(1 for d in digits if d >= "\u06F0")
        s += _W_FA_DIGIT * min(c, _CAP_FA_DIGIT) + _W_AR_DIGIT * min(len(digits) - c, _CAP_AR_DIGIT)
    return s


def _english(latin: list[str], n_lat: int, en_hits: int, n_ar: int) -> LangGuess:
    if n_lat < 3:
        return _UND
    # English prose has a function word in every two or three words; Finglish,
    # Arabizi, other Latin-script languages and lists of names have few or none.
    base = min(0.99, 0.35 + 1.5 * en_hits / len(latin))
    if len(latin) == 1:
        base = min(base, 0.45)
    return LangGuess("en", round(base * n_lat / (n_lat + n_ar), 4))
