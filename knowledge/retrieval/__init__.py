"""Retrieval: from a question to a ranked short list of procedures, and the answer/clarify/abstain decision.

``query`` analyses the question, ``lexical`` and ``dense`` score every procedure, ``candidates``
fuses and reranks (``rerank``), and ``decide`` chooses what to do with the ranking.
"""
