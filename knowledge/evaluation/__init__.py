"""Evaluation: retrieval and decision quality on a labelled set, the tuning commands, the hand-checked records."""
