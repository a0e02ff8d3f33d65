"""Ingest: the national portal's records parsed and validated into :class:`~knowledge.ingest.records.Procedure`."""
