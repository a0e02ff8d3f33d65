"""Rasa pipeline components of this project (loaded by the Rasa server, in .venv-rasa, never by the app).

``FoldingTokenizer``: whitespace tokens whose lemma is the token folded (lower case, no diacritics),
so that a featurizer reading lemmas sees "lệ phí" and "le phi" as the same words. The token text
keeps its diacritics for the featurizers that read it. Uses only ``nlu.text.fold`` (standard library).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from nlu.text import fold


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FoldingTokenizer(WhitespaceTokenizer):
    """Whitespace tokens with folded lemmas (people type Vietnamese with or without diacritics)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return WhitespaceTokenizer.get_default_config()

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = fold(token.text)
        return tokens
