"""Lexical retrieval over procedure names and key fields with BM25 (bm25s).

Three channels, each a BM25 index over syllable unigrams and bigrams:

- ``name``: the procedure name, folded (diacritics removed) — tolerant of hurried typing —
  followed by the words of the acronyms it uses ("GTGT": see :mod:`knowledge.retrieval.acronyms`);
- ``name_accented``: the name with diacritics — separates "mã" from "mà" when the user typed them;
- ``body``: field, result documents, required documents, conditions and applicants, folded —
  catches questions that describe the situation instead of naming the procedure.

Three more, each over one field (folded), are not fused: the reranker (:mod:`knowledge.retrieval.rerank`)
weighs them for the first stage's short list — ``documents`` (every required document),
``steps`` (the procedure's steps) and ``field`` (its area, e.g. "Hộ tịch", "Đất đai").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from knowledge.ingest.records import Procedure
from knowledge.retrieval.acronyms import defined_acronyms, spelled_out
from knowledge.retrieval.query import AnalyzedQuery, document_terms, folded_document_terms

CHANNELS = ("name", "name_accented", "body")
FIELD_CHANNELS = ("documents", "steps", "field")
_BODY_CHAR_LIMIT = 1500
_STEPS_CHAR_LIMIT = 3000


def name_text(procedure: Procedure) -> str:
    return procedure.name


def indexed_name(procedure: Procedure, acronyms: dict[str, str]) -> str:
    """What the name channels index: the name followed by the words of its acronyms."""
    return spelled_out(name_text(procedure), acronyms)


def body_text(procedure: Procedure) -> str:
    parts = [procedure.field or ""]
    parts += [result.name for result in procedure.results]
    parts += [document.name for document in procedure.documents[:15]]
    parts.append((procedure.conditions or "")[:400])
    return " ".join(parts)[:_BODY_CHAR_LIMIT]


def field_texts(procedure: Procedure) -> dict[str, str]:
    """The texts of the field channels (see the module docstring)."""
    return {
        "documents": " ".join(document.name for document in procedure.documents),
        "steps": procedure.steps_text[:_STEPS_CHAR_LIMIT],
        "field": procedure.field or "",
    }


@dataclass(frozen=True)
class ChannelScores:
    """Raw BM25 scores of one query against every procedure, per channel."""

    name: np.ndarray
    name_accented: np.ndarray
    body: np.ndarray


def _field_corpus(procedures: Sequence[Procedure], channel: str) -> list[list[str]]:
    return [folded_document_terms(field_texts(procedure)[channel]) or ["_"] for procedure in procedures]


class LexicalIndex:
    """BM25 indexes of every procedure, built in memory from the records (a few seconds).

    ``name_b`` and ``body_b`` are BM25's length normalisation. Names run from three words to
    eighty ("Giao đất, cho thuê đất, chuyển mục đích sử dụng đất đối với trường hợp ..."), so
    how hard a long name is penalised matters; 0.5 instead of the usual 0.75 was chosen by
    grouped cross-validation of the whole pipeline (README, "Measuring").
    """

    def __init__(self, procedures: Sequence[Procedure], name_b: float = 0.5, body_b: float = 0.5) -> None:
        self.size = len(procedures)
        folded_names, accented_names, folded_bodies = [], [], []
        self.acronyms = defined_acronyms(procedures)
        for procedure in procedures:
            folded, accented = document_terms(indexed_name(procedure, self.acronyms))
            folded_names.append(folded or ["_"])
            accented_names.append(accented or ["_"])
            folded_bodies.append(document_terms(body_text(procedure))[0] or ["_"])
        self._name = _bm25(folded_names, name_b)
        self._name_accented = _bm25(accented_names, name_b)
        self._body = _bm25(folded_bodies, body_b)
        self.name_vocabulary = frozenset(term for terms in folded_names for term in terms)
        self._name_document_frequency = _document_frequency(folded_names)
        self._body_document_frequency = _document_frequency(folded_bodies)
        self._fields = {channel: _bm25(_field_corpus(procedures, channel), body_b) for channel in FIELD_CHANNELS}

    def scores(
        self, query: AnalyzedQuery, accented_terms: list[str] | None = None, folded_terms: list[str] | None = None
    ) -> ChannelScores:
        """BM25 per channel; ``accented_terms`` and ``folded_terms`` (from the question with its
        diacritics restored) stand in for those of a question typed without them."""
        accented = accented_terms if accented_terms is not None else query.accented_terms
        folded = folded_terms if folded_terms is not None else query.folded_terms
        use_accented = query.typed_with_diacritics or accented_terms is not None
        return ChannelScores(
            name=_scores(self._name, folded, self.size),
            name_accented=_scores(self._name_accented, accented, self.size)
            if use_accented
            else np.zeros(self.size, dtype=np.float32),
            body=_scores(self._body, folded, self.size),
        )

    def field_scores(self, query: AnalyzedQuery, folded_terms: list[str] | None = None) -> dict[str, np.ndarray]:
        """BM25 of the folded query terms per field channel, each divided by the query's best."""
        folded = folded_terms if folded_terms is not None else query.folded_terms
        scores = {}
        for channel, index in self._fields.items():
            raw = _scores(index, folded, self.size)
            best = float(raw.max()) if raw.size else 0.0
            scores[channel] = raw / best if best > 0 else raw
        return scores

    def idf(self, term: str) -> float:
        """Inverse document frequency of a folded term over names and bodies (0 when unseen)."""
        frequency = self._name_document_frequency.get(term, 0) + self._body_document_frequency.get(term, 0)
        if frequency == 0:
            return 0.0
        return float(np.log(1 + (2 * self.size - frequency + 0.5) / (frequency + 0.5)))


def _bm25(corpus_terms: list[list[str]], b: float) -> bm25s.BM25:
    index = bm25s.BM25(k1=1.2, b=b)
    index.index(corpus_terms, show_progress=False)
    return index


def _scores(index: bm25s.BM25, terms: list[str], size: int) -> np.ndarray:
    known = [term for term in terms if term in index.vocab_dict]
    if not known:
        return np.zeros(size, dtype=np.float32)
    return index.get_scores(known)


def _document_frequency(corpus_terms: list[list[str]]) -> dict[str, int]:
    frequency: dict[str, int] = {}
    for terms in corpus_terms:
        for term in set(terms):
            frequency[term] = frequency.get(term, 0) + 1
    return frequency
