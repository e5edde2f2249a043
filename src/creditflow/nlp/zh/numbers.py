"""Chinese money and date normalisation: "¥12,345.67", "12,345.67元", "5万元", "壹万贰仟元整",
"2026年3月15日", "二〇二六年三月十五日" -> float / ISO date.

Why hand-written and not a library: the forms are few and well defined (GB/T 15835 style
amounts on bank and payroll forms, uppercase 大写 amounts on contracts and licences), the
offsets of what was read must be exact, and nothing may be downloaded at run time.
"""

from __future__ import annotations

import re
from datetime import date

DIGITS = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "貳": 2, "两": 2, "三": 3, "叁": 3,
          "參": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "陸": 6, "七": 7, "柒": 7, "八": 8,
          "捌": 8, "九": 9, "玖": 9}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
CN_NUM_CHARS = "".join(DIGITS) + "".join(UNITS) + "".join(BIG)

_FULLWIDTH = str.maketrans("０１２３４５６７８９，．￥：", "0123456789,.¥:")

#: a money expression; group names tell which form matched (order matters: longest forms first)
MONEY_RE = re.compile(
    r"(?P<upper>(?:人民币|RMB|CNY)?\s*(?:[零〇壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億]+)(?:[元圆圓](?:[零〇壹贰叁肆伍陆柒捌玖]角)?"
    r"(?:[零〇壹贰叁肆伍陆柒捌玖]分)?整?|[元圆圓]整))"
    r"|(?P<arabic>(?:(?:人民币|RMB|CNY|USD|US\$|\$|¥|￥)\s*)?-?\d[\d,，]*(?:\.\d+)?\s*(?:万|亿)?\s*(?:元|美元|块)?)"
)
_ARABIC = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[年\-/.]\s*(?P<m>\d{1,2})\s*[月\-/.]\s*(?P<d>\d{1,2})\s*日?"
    r"|(?P<cy>[零〇○一二三四五六七八九]{4})年(?P<cm>[一二三四五六七八九十]{1,2})月(?P<cd>[一二三四五六七八九十]{1,3})日"
)


def cn_int(s: str) -> int | None:
    """Integer value of a Chinese numeral ("壹万贰仟" -> 12000, "十五" -> 15, "二〇二六" -> 2026)."""
    s = s.strip()
    if not s or any(c not in CN_NUM_CHARS for c in s):
        return None
    if not any(c in UNITS or c in BIG for c in s):  # digit by digit, as in years: 二〇二六
        return int("".join(str(DIGITS[c]) for c in s))
    total = section = num = 0
    for c in s:
        if c in DIGITS:
            num = DIGITS[c]
        elif c in UNITS:
            section += (num or 1) * UNITS[c]
            num = 0
        else:  # 万 / 亿
            big = BIG[c]
            section += num
            if big == 100_000_000:
                total = (total + section) * big
            else:
                total += section * big
            section = num = 0
    return total + section + num


def parse_upper_amount(s: str) -> float | None:
    """Uppercase (大写) amount: "人民币壹万贰仟叁佰元伍角整" -> 12300.5."""
    s = re.sub(r"^(?:人民币|RMB|CNY)\s*", "", s.strip())
    m = re.fullmatch(r"([零〇壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億]*)[元圆圓]?(?:([零〇壹贰叁肆伍陆柒捌玖])角)?"
                     r"(?:([零〇壹贰叁肆伍陆柒捌玖])分)?整?", s)
    if not m or not (m.group(1) or m.group(2) or m.group(3)):
        return None
    yuan = cn_int(m.group(1).replace("零", "")) if m.group(1).replace("零", "") else 0
    if yuan is None:
        return None
    jiao = DIGITS[m.group(2)] if m.group(2) else 0
    fen = DIGITS[m.group(3)] if m.group(3) else 0
    return round(yuan + jiao / 10 + fen / 100, 2)


def currency_of(s: str, default: str = "CNY") -> str:
    if "美元" in s or "USD" in s or "$" in s.replace("US$", "$"):
        return "USD"
    return default


def parse_amount(s: str, scale: float = 1.0) -> float | None:
    """Any supported money form -> float in its own currency unit; `scale` applies to bare
    numbers in a table whose header says "单位：万元" (the number is in 10,000s)."""
    s = s.translate(_FULLWIDTH).strip()
    if not s:
        return None
    if re.search(r"[壹贰貳叁參肆伍陆陸柒捌玖拾佰仟]", s) or re.fullmatch(r"(?:人民币)?[零〇一二两三四五六七八九十百千万亿]+[元圆]整?", s):
        return parse_upper_amount(s.replace("一", "壹").replace("二", "贰").replace("三", "叁").replace("四", "肆")
                                  .replace("五", "伍").replace("六", "陆").replace("七", "柒").replace("八", "捌")
                                  .replace("九", "玖").replace("两", "贰").replace("十", "拾").replace("百", "佰").replace("千", "仟"))
    m = _ARABIC.search(s.replace("，", ","))
    if not m:
        return None
    try:
        value = float(m.group(0).replace(",", ""))
    except ValueError:
        return None
    tail = s[m.end():]
    if tail.lstrip().startswith("亿"):
        value *= 100_000_000
    elif tail.lstrip().startswith("万"):
        value *= 10_000
    elif scale != 1.0 and not re.search(r"[元¥$]|人民币|RMB|CNY|USD", s):
        value *= scale
    return round(value, 2)


def parse_date(s: str) -> str | None:
    """First date in `s` as ISO YYYY-MM-DD, or None when there is none or it is impossible."""
    m = DATE_RE.search(s.translate(_FULLWIDTH))
    if not m:
        return None
    try:
        if m.group("y"):
            d = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        else:
            y, mo, dd = cn_int(m.group("cy")), cn_int(m.group("cm")), cn_int(m.group("cd"))
            if y is None or mo is None or dd is None:
                return None
            d = date(y, mo, dd)
    except ValueError:
        return None
    return d.isoformat()


def find_money(text: str) -> list[tuple[int, int, float, str]]:
    """(start, end, value, currency) of money expressions that carry a currency or unit marker."""
    out = []
    t = text.translate(_FULLWIDTH)  # same length: offsets stay valid
    for m in MONEY_RE.finditer(t):
        span = m.group(0)
        if m.group("arabic") and not re.search(r"[元¥$万亿块]|人民币|RMB|CNY|USD", span):
            continue  # a bare number is not money by itself
        lead = len(span) - len(span.lstrip())
        trail = len(span) - len(span.rstrip())
        start, end = m.start() + lead, m.end() - trail
        value = parse_amount(t[start:end])
        if value is not None:
            out.append((start, end, value, currency_of(t[start:end])))
    return out


def find_dates(text: str) -> list[tuple[int, int, str]]:
    t = text.translate(_FULLWIDTH)
    out = []
    for m in DATE_RE.finditer(t):
        iso = parse_date(m.group(0))
        if iso:
            out.append((m.start(), m.end(), iso))
    return out
