"""The optional Rasa backend: ``NLU_BACKEND=rasa`` and ``RASA_URL``.

A Rasa server (``rasa run --enable-api``, trained on ``relance nlu export-rasa``)
answers ``POST {RASA_URL}/model/parse`` with its documented response::

    {"text": "...", "intent": {"name": "greet", "confidence": 0.98},
     "intent_ranking": [{"name": "greet", "confidence": 0.98}, ...],
     "entities": [{"entity": "amount", "value": "250", "start": 3, "end": 8, ...}]}

We keep Rasa's intent reading and give back the contract shape: every intent in
the ranking (those Rasa did not list get 0), a ``language`` from our detector,
and entities from our extractor, because Rasa's values are the words as written
("vendredi prochain") while the contract wants ISO dates and decimal strings.
Rasa's ``nlu_fallback`` is not a contract intent: the best contract intent is
reported instead, with its (low) confidence.

The standard library's HTTP client is enough for one JSON POST and keeps this
module import-light; it is synchronous like the rest of the parse API.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date
from typing import Any

from bot.errors import UserError
from nlu.training import INTENTS


class RasaBackend:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.timeout = timeout

    def _call(self, text: str) -> dict[str, Any]:
        body = json.dumps({"text": text}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise UserError(f"Rasa at {self.url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UserError(f"cannot reach Rasa at {self.url}: {reason}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UserError(f"Rasa at {self.url} did not answer JSON") from None
        if not isinstance(answer, dict):
            raise UserError(f"Rasa at {self.url} answered something other than an object")
        return answer

    def parse_many(self, texts: list[str], reference_dates: list[date]) -> list[dict[str, Any]]:
        from nlu.pipeline import _detect_language, _entities, _normalise

        results = []
        for text, reference in zip(texts, reference_dates, strict=True):
            answer = self._call(text)
            ranking = to_contract_ranking(answer)
            name, confidence = ranking[0]
            language = _detect_language(_normalise(text), text)
            results.append(
                {
                    "text": text,
                    "intent": {"name": name, "confidence": confidence},
                    "intent_ranking": [{"name": n, "confidence": p} for n, p in ranking],
                    "entities": _entities(text, language, reference, name) if text.strip() else [],
                    "language": language,
                }
            )
        return results


def to_contract_ranking(answer: dict[str, Any]) -> list[tuple[str, float]]:
    """Rasa's intent and ranking as all 18 contract intents, best first."""
    scores = dict.fromkeys(INTENTS, 0.0)
    listed = list(answer.get("intent_ranking") or [])
    top = answer.get("intent")
    if isinstance(top, dict):
        listed.append(top)
    for item in listed:
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        try:
            confidence = float(item.get("confidence") or 0.0)
        except (TypeError, ValueError):
            continue
        if name in scores:
            scores[name] = max(scores[name], round(confidence, 4))
    # On a tie (Rasa named no contract intent at all) "anything else" comes first.
    return sorted(
        scores.items(),
        key=lambda pair: (-pair[1], pair[0] != "out_of_scope", INTENTS.index(pair[0])),
    )
