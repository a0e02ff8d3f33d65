"""Chat channel adapters: they translate formats only; every message goes through ``converse``."""
