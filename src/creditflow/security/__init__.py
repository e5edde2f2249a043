"""Security building blocks: signed role tokens (tokens), payload encryption for Temporal (codec),
and the key-file rules they share (keyfiles). See docs/SECURITY.md for the threat model."""
