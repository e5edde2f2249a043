"""Exceptions the NLP library raises on purpose (everything else is a bug)."""

from __future__ import annotations


class TextTooLarge(ValueError):
    """The text is longer than `Settings.max_nlp_chars`; the HTTP layer maps it to 413.

    Why refuse instead of truncating: a truncated analysis would silently miss fields and
    risk signals at the end of a long document, and the caller could not tell.
    """

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"text has {length} characters; the limit is {limit}")
        self.length = length
        self.limit = limit


class ExtractionError(ValueError):
    """A document's bytes could not be turned into text (corrupt file, unsupported type)."""


class UnsupportedMediaType(ExtractionError):
    """The media type is not one the NLP service reads (HTTP 415)."""


class OcrUnavailable(ExtractionError):
    """The tesseract binary is missing, so images cannot be read (install tesseract-ocr)."""
