"""Parsers for the flattened tables of the national procedure pages.

The portal renders tables; the crawl concatenated their cells with no separator. Each parser
here rebuilds the rows from what is left — cell vocabularies, number shapes, column headers —
and reports failure instead of guessing, so that answers can quote the raw text.
"""
