"""Restore diacritics of words typed without them, from the knowledge base's own vocabulary.

"lam can cuoc" → "làm căn cước": every folded syllable has a few accented readings in the
procedure texts; a syllable-bigram model over those texts picks the most likely sequence
(Viterbi). Words the knowledge base never uses ("cccd", "homestay") are left as typed, and
words already typed with diacritics are kept.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from nlu.text import fold, has_diacritics, syllables

MAX_READINGS = 6
_BACKOFF = 0.4


class DiacriticRestorer:
    def __init__(self, texts: Iterable[str]) -> None:
        unigrams: Counter[str] = Counter()
        bigrams: Counter[tuple[str, str]] = Counter()
        for text in texts:
            tokens = syllables(text)
            unigrams.update(tokens)
            bigrams.update(zip(tokens, tokens[1:]))
        readings: dict[str, list[str]] = defaultdict(list)
        for token, _ in unigrams.most_common():
            folded = fold(token)
            if len(readings[folded]) < MAX_READINGS:
                readings[folded].append(token)
        self._unigrams = unigrams
        self._bigrams = bigrams
        self._readings = dict(readings)
        self._total = sum(unigrams.values()) or 1

    def readings(self, token: str) -> list[str]:
        if has_diacritics(token):
            return [token]
        return self._readings.get(token, [token])

    def _log_unigram(self, token: str) -> float:
        return math.log((self._unigrams.get(token, 0) + 0.1) / self._total)

    def _log_transition(self, previous: str, token: str) -> float:
        seen = self._unigrams.get(previous, 0)
        pair = self._bigrams.get((previous, token), 0)
        unigram = math.exp(self._log_unigram(token))
        return math.log((pair + _BACKOFF * unigram * (seen + 1)) / (seen + 1))

    def restore_tokens(self, tokens: list[str]) -> list[str]:
        if not tokens:
            return []
        lattice = [self.readings(token) for token in tokens]
        best = {reading: (self._log_unigram(reading), [reading]) for reading in lattice[0]}
        for options in lattice[1:]:
            step = {}
            for reading in options:
                score, path = max(
                    (
                        (prev_score + self._log_transition(prev, reading), prev_path)
                        for prev, (prev_score, prev_path) in best.items()
                    ),
                    key=lambda item: item[0],
                )
                step[reading] = (score, [*path, reading])
            best = step
        return max(best.values(), key=lambda item: item[0])[1]

    def restore(self, text: str) -> str:
        return " ".join(self.restore_tokens(syllables(text)))
