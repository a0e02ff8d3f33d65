"""Rasa dialogue layer: domain, training data, stories and thin custom actions (rasa-sdk).

Custom actions call :class:`knowledge.service.AnswerService`; the Rasa server itself runs in its
own Python 3.10 environment. Built in the dialogue-layer issue.
"""
