"""Evidence highlighting in the real page code: code-point offsets, astral characters, Chinese, overlaps.

The NLP service reports Python str offsets (code points); the page must convert them to
JavaScript's UTF-16 indices. The texts below put an emoji (two UTF-16 units) before the
evidence, so any page that slices with raw offsets would highlight the wrong characters.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


def _span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


def _signal(text: str, words: str, code: str, polarity: str = "affirmed") -> dict[str, Any]:
    s, e = _span(text, words)
    return {"code": code, "polarity": polarity, "subject": "applicant", "severity": "high",
            "evidence": {"text": words, "start": s, "end": e}}


async def _render(page: Page, text: str, analysis: dict[str, Any]) -> None:
    await page.evaluate(
        """([text, analysis]) => {
             const box = document.createElement('div');
             box.id = 'probe';
             box.appendChild(window.creditflowConsole.renderHighlighted(text, analysis));
             document.body.prepend(box);
           }""",
        [text, analysis],
    )


async def _marked(page: Page, selector: str) -> str:
    return "".join(await page.locator(f"#probe {selector}").all_text_contents())


async def test_chinese_text_after_an_astral_character_highlights_the_right_words(page: Page, console_url: str) -> None:
    text = "客户😀说她上个月借了发薪日贷款，她怀孕了。𠀀还有逾期还款记录。"
    analysis = {
        "kind": "note", "language": "zh", "model_version": "t",
        "risk_signals": [_signal(text, "借了发薪日贷款", "HIGH_COST_BORROWING"),
                         _signal(text, "逾期还款", "DELINQUENCY", "historical")],
        "protected_attributes": [{"category": "pregnancy", "start": _span(text, "怀孕")[0],
                                  "end": _span(text, "怀孕")[1]}],
    }
    # Offsets really are code points here: the emoji and U+20000 are 2 UTF-16 units each.
    assert len(text.encode("utf-16-le")) // 2 == len(text) + 2
    await page.goto(f"{console_url}/console")
    await _render(page, text, analysis)

    assert await _marked(page, 'mark[data-codes~="HIGH_COST_BORROWING"]') == "借了发薪日贷款"
    assert await _marked(page, 'mark[data-codes~="DELINQUENCY"]') == "逾期还款"
    assert await _marked(page, 'mark.protected[data-categories~="pregnancy"]') == "怀孕"
    await expect(page.locator("#probe .tag[data-code=HIGH_COST_BORROWING]")).to_have_text(
        "HIGH_COST_BORROWING · affirmed")
    await expect(page.locator("#probe .tag[data-code=DELINQUENCY]")).to_have_text("DELINQUENCY · historical")
    await expect(page.locator("#probe .tag-protected")).to_have_text("do not consider: pregnancy")
    # Polarity decides the colour class; the tag carries the same meaning in words.
    await expect(page.locator('#probe mark[data-codes~="DELINQUENCY"]')).to_have_class("hl risk-historical")
    # The text itself is intact: marks and plain text nodes together give back the input.
    whole = await page.evaluate(
        """() => Array.from(document.querySelector('#probe .doctext').childNodes)
                 .filter(n => !(n.classList && n.classList.contains('tag'))).map(n => n.textContent).join('')""")
    assert whole == text


async def test_overlapping_spans_are_all_shown(page: Page, console_url: str) -> None:
    text = "She took a payday loan and is pregnant; payday loan repaid in 2015."
    loan = _signal(text, "took a payday loan", "HIGH_COST_BORROWING")
    # A second signal overlapping the first (shares "payday loan"), and a protected mention inside a signal.
    overlap = {"code": "DELINQUENCY", "polarity": "negated", "subject": "applicant", "severity": "low",
               "evidence": {"text": "payday loan and is pregnant", "start": _span(text, "payday loan and is pregnant")[0],
                            "end": _span(text, "payday loan and is pregnant")[1]}}
    preg = _span(text, "pregnant")
    analysis = {"kind": "note", "model_version": "t", "risk_signals": [loan, overlap],
                "protected_attributes": [{"category": "pregnancy", "start": preg[0], "end": preg[1]}]}
    await page.goto(f"{console_url}/console")
    await _render(page, text, analysis)

    assert await _marked(page, 'mark[data-codes~="HIGH_COST_BORROWING"]') == "took a payday loan"
    assert await _marked(page, 'mark[data-codes~="DELINQUENCY"]') == "payday loan and is pregnant"
    assert await _marked(page, 'mark.protected') == "pregnant"
    # The shared words carry both codes; affirmed outranks negated for the colour.
    shared = page.locator('#probe mark[data-codes="HIGH_COST_BORROWING DELINQUENCY"]')
    await expect(shared).to_have_text("payday loan")
    await expect(shared).to_have_class("hl risk-affirmed")
    # "pregnant" is inside the negated signal and is also a protected mention.
    await expect(page.locator("#probe mark.protected")).to_have_class("hl risk-negated protected")
    tags = await page.locator("#probe .tag").all_text_contents()
    assert tags == ["HIGH_COST_BORROWING · affirmed", "DELINQUENCY · negated", "do not consider: pregnancy"]


async def test_untrusted_text_is_never_parsed_as_html(page: Page, console_url: str) -> None:
    text = '<img src=x onerror="window.pwned=1"> late payments <b>bold</b>'
    analysis = {"kind": "note", "model_version": "t",
                "risk_signals": [_signal(text, "late payments", "DELINQUENCY")]}
    await page.goto(f"{console_url}/console")
    await _render(page, text, analysis)
    assert await page.locator("#probe img, #probe b").count() == 0
    assert await page.evaluate("() => window.pwned") is None
    await expect(page.locator("#probe .doctext")).to_contain_text('<img src=x onerror="window.pwned=1">')


async def test_misplaced_offsets_fall_back_to_the_quoted_evidence(page: Page, console_url: str) -> None:
    text = "Applicant reports gambling losses at the casino."
    sig = _signal(text, "gambling losses", "GAMBLING")
    sig["evidence"]["start"] += 3  # a producer bug: offsets off by three
    sig["evidence"]["end"] += 3
    lost = {"code": "FRAUD_INDICATOR", "polarity": "affirmed", "subject": "applicant", "severity": "high",
            "evidence": {"text": "altered pay stub", "start": 200, "end": 216}}
    await page.goto(f"{console_url}/console")
    await _render(page, text, {"kind": "note", "model_version": "t", "risk_signals": [sig, lost]})
    assert await _marked(page, 'mark[data-codes~="GAMBLING"]') == "gambling losses"
    await expect(page.locator("#probe .warning")).to_contain_text("FRAUD_INDICATOR")
