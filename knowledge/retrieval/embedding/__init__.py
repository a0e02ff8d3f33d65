"""Sentence embeddings for dense retrieval: encoders and the offline model conversion."""
