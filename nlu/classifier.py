"""Intent classifier: TF-IDF character and word n-grams into a calibrated linear SVM.

    train(examples) -> IntentClassifier         a few seconds on ~5,000 examples
    classifier.rank("je paierai vendredi", "fr") -> [("promise_to_pay", 0.93), ...]

One model serves the four languages: character n-grams (``char_wb`` 2-5) carry
spelling variants, typos and missing accents; word uni- and bigrams carry
negations ("pas reçu", "niet betaald"); a language token lets the model weigh a
word differently per language ("bank" is a bench in Dutch but a bank in German).
A linear SVM with sigmoid-calibrated scores gives the probabilities used as
confidence (checked on the development set, see README: above 0.5 the reading
is right about 98% of the time).

The fitted model is cached on disk in the user cache folder, keyed by a hash of
the training files, this module's ``MODEL_VERSION`` and scikit-learn's version,
so the first parse after a data change trains (seconds) and later ones load.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlu.training import Example, data_files, load_yaml

log = logging.getLogger(__name__)

# Bump when features, model or folding change: old cache entries are then ignored.
MODEL_VERSION = "2"

_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case, no accents, digits as ``0``: what the n-grams see.

    Amounts and dates differ in every message; their shape ("000,00", "00/00")
    is what tells an intent, not the digits.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _DIGITS.sub("0", bare)).strip()


def features_text(text: str, language: str) -> str:
    return f"{fold(text)} zzlang{language}"


class FastScorer:
    """The fitted model's arithmetic for one message, without scikit-learn's overhead.

    scikit-learn spends about 2 ms validating and wrapping a single document on
    its way through two vectorisers and the calibrated SVM; the arithmetic itself
    is a few dozen n-gram look-ups and one small matrix product.  This class
    repeats exactly that arithmetic (sublinear TF-IDF per block, L2 norm per
    block, linear scores, per-class sigmoid, normalisation) from the fitted
    parameters; ``tests/unit/nlu/test_pipeline.py`` checks it gives the same
    probabilities as ``model.predict_proba``.  Batches still go through
    scikit-learn, which is faster per message there.
    """

    def __init__(self, model: Any) -> None:
        import numpy as np

        union = model.named_steps["features"]
        self.blocks = []
        offset = 0
        for _, vectoriser in union.transformer_list:
            self.blocks.append(
                (vectoriser.build_analyzer(), vectoriser.vocabulary_, vectoriser.idf_, offset)
            )
            offset += len(vectoriser.vocabulary_)
        calibrated = model.named_steps["model"].calibrated_classifiers_
        if len(calibrated) != 1:  # ensemble=False gives exactly one
            raise ValueError("expected one calibrated classifier")
        svm = calibrated[0].estimator
        self.weights = np.ascontiguousarray(svm.coef_.T)  # features x classes
        self.intercept = svm.intercept_.copy()
        self.a = np.array([c.a_ for c in calibrated[0].calibrators], dtype=float)
        self.b = np.array([c.b_ for c in calibrated[0].calibrators], dtype=float)

    def predict_proba(self, text: str) -> Any:
        import math

        import numpy as np

        columns: list[int] = []
        values: list[float] = []
        for analyse, vocabulary, idf, offset in self.blocks:
            counts: dict[int, int] = {}
            for gram in analyse(text):
                index = vocabulary.get(gram)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            block = [(1.0 + math.log(n)) * idf[i] for i, n in counts.items()]
            norm = math.sqrt(sum(v * v for v in block)) or 1.0
            columns.extend(offset + i for i in counts)
            values.extend(v / norm for v in block)
        scores = self.intercept.copy()
        if columns:
            scores += np.asarray(values) @ self.weights[columns]
        proba = 1.0 / (1.0 + np.exp(self.a * scores + self.b))
        total = proba.sum()
        return proba / total if total > 0 else np.full_like(proba, 1.0 / len(proba))


@dataclass
class IntentClassifier:
    """A fitted scikit-learn pipeline and the intent names of its columns."""

    model: Any
    intents: tuple[str, ...]
    key: str = ""

    def __post_init__(self) -> None:
        self._fast: FastScorer | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"model": self.model, "intents": self.intents, "key": self.key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._fast = None

    @property
    def fast(self) -> FastScorer:
        if self._fast is None:
            self._fast = FastScorer(self.model)
        return self._fast

    def rank(self, text: str, language: str) -> list[tuple[str, float]]:
        """Every intent with its probability, most likely first."""
        return self.rank_many([text], [language])[0]

    def rank_many(
        self, texts: Sequence[str], languages: Sequence[str]
    ) -> list[list[tuple[str, float]]]:
        features = [features_text(t, lang) for t, lang in zip(texts, languages, strict=True)]
        if len(features) <= _FAST_UP_TO:
            rows = [self.fast.predict_proba(f) for f in features]
        else:
            rows = list(self.model.predict_proba(features))
        ranked = []
        for row in rows:
            pairs = sorted(
                zip(self.intents, (float(p) for p in row), strict=True),
                key=lambda pair: (-pair[1], pair[0]),
            )
            ranked.append(pairs)
        return ranked


# Up to this many messages at once the hand-rolled scorer is faster.
_FAST_UP_TO = 16


def build_model(c: float = 1.0) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w+\b",
                ),
            ),
        ]
    )
    # A linear SVM separates these sparse features best (and trains in about a
    # second); its scores become probabilities by sigmoid calibration fitted on
    # 5-fold cross-validated scores, then the SVM is refitted on all the data
    # (ensemble=False), so the ranking is the full model's.
    model = CalibratedClassifierCV(LinearSVC(C=c), cv=5, method="sigmoid", ensemble=False)
    return Pipeline([("features", features), ("model", model)])


def train(examples: Sequence[Example], c: float = 1.0) -> IntentClassifier:
    """Fit a classifier on examples (all intents present)."""
    if not examples:
        raise ValueError("no training examples")
    model = build_model(c)
    model.fit([features_text(e.text, e.language) for e in examples], [e.intent for e in examples])
    return IntentClassifier(model, tuple(str(name) for name in model.classes_))


def data_key(paths: Sequence[Path]) -> str:
    import sklearn

    digest = hashlib.sha256()
    digest.update(f"model {MODEL_VERSION} sklearn {sklearn.__version__}\n".encode())
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("RELANCE_CACHE_DIR") or user_cache_dir("relance")) / "nlu"


def load_or_train(
    paths: Sequence[Path] | None = None, *, retrain: bool = False
) -> IntentClassifier:
    """The classifier for these training files, from the cache when it is there."""
    files = list(paths) if paths is not None else data_files()
    key = data_key(files)
    cached = cache_dir() / f"intents-{key}.pickle"
    if cached.exists() and not retrain:
        try:
            with cached.open("rb") as handle:
                loaded = pickle.load(handle)  # our own file, written below
            if isinstance(loaded, IntentClassifier) and loaded.key == key:
                return loaded
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            log.warning("ignoring unreadable NLU cache %s", cached)
    examples: list[Example] = []
    for path in files:
        examples.extend(load_yaml(path))
    classifier = train(examples)
    classifier.key = key
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary = cached.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(cached)  # atomic: a parallel reader never sees half a file
        for stale in cached.parent.glob("intents-*.pickle"):
            if stale != cached:  # models of older data or code (~7 MB each)
                stale.unlink(missing_ok=True)
    except OSError as exc:  # a read-only home still parses, it just trains each time
        log.warning("cannot cache the NLU model in %s: %s", cached.parent, exc)
    return classifier
