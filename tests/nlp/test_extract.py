"""extract_text / sniff_media_type on real bytes: plain text, a generated PDF, an OCR'd PNG."""

from __future__ import annotations

import io
import shutil

import pytest

from creditflow.nlp.errors import ExtractionError, UnsupportedMediaType
from creditflow.nlp.extract import extract_text, sniff_media_type


def make_pdf(lines: list[str], pages: int = 1) -> bytes:
    """A minimal valid PDF (Helvetica text), built by hand so the test needs no PDF writer."""
    objs: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font_id = 3 + 2 * pages
    for i in range(pages):
        content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(
            f"({ln.replace('(', '[').replace(')', ']')}) Tj T*" for ln in lines) + " ET"
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                    f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objs.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream".encode())
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def test_sniff():
    assert sniff_media_type(b"%PDF-1.7 ...") == "application/pdf"
    assert sniff_media_type(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff_media_type(b"\xff\xd8\xff\xe0....") == "image/jpeg"
    assert sniff_media_type("Net Pay: $1,000 — ok".encode()) == "text/plain"
    assert sniff_media_type(b"\x00\x01\x02\x03\x04binary") is None
    assert sniff_media_type(bytes(range(128, 256)) * 10) is None


def test_plain_utf8_and_legacy_fallback():
    out = extract_text("Employee: José Núñez\r\nNet Pay: €1.000,00\n".encode(), "text/plain; charset=utf-8")
    assert out.method == "plain" and out.pages == 1
    assert "José Núñez" in out.text and "\r" not in out.text
    legacy = extract_text("Name: Zoë Brontë\n".encode("cp1252"), "text/plain")
    assert "Zoë Brontë" in legacy.text


def test_pdf_text():
    data = make_pdf(["EARNINGS STATEMENT", "Employee Name: Nadia Brooks", "Net Pay: $2,411.75"], pages=2)
    out = extract_text(data, "application/pdf")
    assert out.method == "pdf_text" and out.pages == 2
    assert "Nadia Brooks" in out.text and "2,411.75" in out.text


def test_pdf_page_limit(monkeypatch):
    import creditflow.nlp.extract as ex

    monkeypatch.setattr(ex, "MAX_PDF_PAGES", 2)
    out = extract_text(make_pdf(["page text"], pages=4), "application/pdf")
    assert out.pages == 2 and out.text.count("page text") == 2


def test_corrupt_pdf_is_a_clear_error():
    with pytest.raises(ExtractionError):
        extract_text(b"%PDF-1.4\nthis is not really a pdf", "application/pdf")


def test_declared_type_must_match_content():
    with pytest.raises(UnsupportedMediaType):
        extract_text(b"%PDF-1.4 ...", "image/png")
    with pytest.raises(UnsupportedMediaType):
        extract_text(b"hello", "application/msword")
    with pytest.raises(UnsupportedMediaType):
        extract_text(b"\x00\x01\x02binary", "text/plain")


def _render_png(lines: list[str]) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=36)
    img = Image.new("L", (1400, 80 + 60 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 40 + 60 * i), line, fill=0, font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.skipif(shutil.which("tesseract") is None,
                    reason="tesseract binary not installed (apt-get install tesseract-ocr)")
def test_png_ocr():
    data = _render_png(["UTILITY BILL", "Customer Name: June Park", "Total Amount Due: $57.32"])
    out = extract_text(data, "image/png")
    assert out.method == "ocr"
    assert "June Park" in out.text and "57.32" in out.text


@pytest.mark.skipif(shutil.which("tesseract") is None,
                    reason="tesseract binary not installed (apt-get install tesseract-ocr)")
def test_truncated_image_is_a_clear_error():
    data = _render_png(["x"])[:60]
    with pytest.raises(ExtractionError):
        extract_text(data, "image/png")


def test_missing_tesseract_is_a_clear_error(monkeypatch):
    import creditflow.nlp.extract as ex
    from creditflow.nlp.errors import OcrUnavailable

    monkeypatch.setattr(ex.shutil, "which", lambda name: None)
    with pytest.raises(OcrUnavailable, match="tesseract"):
        extract_text(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "image/png")
