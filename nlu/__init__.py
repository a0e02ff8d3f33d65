"""Pure text functions for Vietnamese: normalisation, folding, tokens, abbreviations, aspects, PII masking."""
