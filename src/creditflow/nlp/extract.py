"""Text from uploaded document bytes: plain text, PDF (pypdf), PNG/JPEG (tesseract OCR).

Why bounded everywhere: uploads come from applicants. A PDF may claim thousands of
pages, an image may be a decompression bomb, text may be in a legacy encoding. Each
reader has a hard limit (pages, pixels, characters) and raises `ExtractionError` with a
reason instead of hanging or crashing the service. The magic number decides what a file
is; the declared media type must agree with it.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass

from creditflow.nlp.errors import ExtractionError, OcrUnavailable, UnsupportedMediaType

MAX_PDF_PAGES = 50
MAX_IMAGE_PIXELS = 40_000_000  # ~ an A4 page at 600 dpi; larger is refused, not decoded
MAX_TEXT_CHARS = 2_000_000
OCR_TIMEOUT_S = 60
SUPPORTED = ("text/plain", "application/pdf", "image/png", "image/jpeg")


@dataclass(frozen=True)
class ExtractedText:
    text: str
    pages: int
    method: str  # "plain" | "pdf_text" | "ocr"

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "pages": self.pages, "method": self.method}


def sniff_media_type(data: bytes) -> str | None:
    """Media type from the first bytes; text/plain for decodable text without NULs; None otherwise."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return "text/plain"
    if b"\x00" in head:
        return None
    return "text/plain" if _looks_like_text(head) else None


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and len(head) == 4096:  # a multi-byte char cut by the sample
            return True
    text = head.decode("latin-1")  # cp1252 / latin-1 text is still text if it is printable
    printable = sum(c.isprintable() or c in "\r\n\t\f" for c in text)
    return printable / max(len(text), 1) >= 0.95


def _decode_text(data: bytes) -> str:
    """UTF-8 (with BOM handling), falling back to cp1252 for legacy files."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def extract_text(data: bytes, media_type: str) -> ExtractedText:
    """Text of an uploaded document; raises UnsupportedMediaType / ExtractionError / OcrUnavailable."""
    declared = (media_type or "").split(";")[0].strip().lower()
    if declared == "image/jpg":
        declared = "image/jpeg"
    if declared not in SUPPORTED:
        raise UnsupportedMediaType(f"unsupported media type {media_type!r}; expected one of {', '.join(SUPPORTED)}")
    sniffed = sniff_media_type(data)
    if sniffed != declared:
        raise UnsupportedMediaType(f"content is {sniffed or 'unknown binary'}, not {declared}")
    if declared == "text/plain":
        text = _decode_text(data).replace("\r\n", "\n")
        return ExtractedText(text[:MAX_TEXT_CHARS], 1, "plain")
    if declared == "application/pdf":
        return _pdf(data)
    return _image(data)


def _pdf(data: bytes) -> ExtractedText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise ExtractionError("encrypted PDF") from exc
        n = len(reader.pages)
        parts: list[str] = []
        total = 0
        for page in reader.pages[:MAX_PDF_PAGES]:
            t = page.extract_text() or ""
            parts.append(t)
            total += len(t)
            if total > MAX_TEXT_CHARS:
                break
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise ExtractionError(f"unreadable PDF: {exc.__class__.__name__}") from exc
    return ExtractedText("\n\f".join(parts)[:MAX_TEXT_CHARS], min(n, MAX_PDF_PAGES), "pdf_text")


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def _image(data: bytes) -> ExtractedText:
    from PIL import Image, UnidentifiedImageError

    if not tesseract_available():
        raise OcrUnavailable("OCR needs the tesseract binary: apt-get install tesseract-ocr")
    import pytesseract

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ExtractionError(f"image too large: {img.width}x{img.height} pixels")
            img.load()
            gray = img.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ExtractionError(f"unreadable image: {exc}") from exc
    try:
        text = pytesseract.image_to_string(gray, config="--psm 6", timeout=OCR_TIMEOUT_S)
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        raise ExtractionError(f"OCR failed: {exc}") from exc
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable("OCR needs the tesseract binary: apt-get install tesseract-ocr") from exc
    return ExtractedText(text[:MAX_TEXT_CHARS], 1, "ocr")
