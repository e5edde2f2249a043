"""Seeded generator of the Chinese evaluation sets (run from the repo root):

    .venv/bin/python models/nlp/eval/zh_generate.py

writes models/nlp/eval/zh_notes_{dev,test}.jsonl and zh_documents_{dev,test}.jsonl.
Notes: a hand-written core (gold marked inline: ⟦cue|CODE|polarity|subject⟧, ⟪text|category⟫)
split by a hash of the text, plus template notes whose dev and test frames are DISJOINT (the
test frames were written before tuning and never used for it). Documents: 8 types x 2-3
layouts, five money and five date formats, full-width punctuation, padded labels, missing
fields, "单位：万元" tables, invalid credit codes; split 50/50 by a hash of the id.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "src"))

from creditflow.nlp.uscc import make_uscc  # noqa: E402
from creditflow.nlp.zh.signals import make_resident_id  # noqa: E402

OUT = Path(__file__).resolve().parent
REF_YEAR = 2025
UP_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def split_of(key: str) -> str:
    return "dev" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 else "test"


# ----------------------------------------------------------------------------- notes
CORE = """
申请人⟦没有逾期记录|DELINQUENCY|negated|applicant⟧，征信良好。
⟦其丈夫|_|_|_⟧上个月⟦被裁员|EMPLOYMENT_LOSS|affirmed|third_party⟧，家庭收入减半。
如果工厂关闭，她可能会⟦失业|EMPLOYMENT_LOSS|hypothetical|applicant⟧。
申请人2012年曾⟦申请破产|BANKRUPTCY|historical|applicant⟧，2014年已解除。
申请人是一名破产律师，收入稳定。
客户最近三个月⟦透支|OVERDRAFT|affirmed|applicant⟧两次，并有一次⟦余额不足|OVERDRAFT|affirmed|applicant⟧。
经核查未发现⟦赌博|GAMBLING|negated|applicant⟧相关交易。
申请人承认上周在网上⟦赌球|GAMBLING|affirmed|applicant⟧输了两万元。
借款人目前有三笔⟦网贷|HIGH_COST_BORROWING|affirmed|applicant⟧尚未还清。
申请人否认使用过⟦高利贷|HIGH_COST_BORROWING|negated|applicant⟧。
客户信用卡⟦逾期超过90天|DELINQUENCY|affirmed|applicant⟧，已被银行⟦催收|DELINQUENCY|affirmed|applicant⟧。
申请人名下有一份⟦法院判决|LEGAL_JUDGMENT|affirmed|applicant⟧，工资⟦被扣押|LEGAL_JUDGMENT|affirmed|applicant⟧中。
申请人被列为⟦失信被执行人|LEGAL_JUDGMENT|affirmed|applicant⟧。
提交的银行流水存在⟦篡改|FRAUD_INDICATOR|affirmed|applicant⟧痕迹，身份证照片⟦与本人不符|FRAUD_INDICATOR|affirmed|applicant⟧。
电话回访时单位前台表示⟦无法核实其工作|UNVERIFIED_EMPLOYMENT|affirmed|applicant⟧。
经销商上季度⟦失去了主要客户|BUSINESS_DISTRESS|affirmed|applicant⟧，⟦应收账款大量逾期|BUSINESS_DISTRESS|affirmed|applicant⟧。
该公司工厂目前⟦停产|BUSINESS_DISTRESS|affirmed|applicant⟧，⟦资金链紧张|BUSINESS_DISTRESS|affirmed|applicant⟧。
申请人⟦负债过高|HIGH_DEBT_BURDEN|affirmed|applicant⟧，每月⟦以贷养贷|HIGH_DEBT_BURDEN|affirmed|applicant⟧。
客户近半年⟦收入不稳定|INCOME_INSTABILITY|affirmed|applicant⟧，主要靠⟦打零工|INCOME_INSTABILITY|affirmed|applicant⟧。
申请人⟪35岁|age⟫，⟪离异|marital_status⟫，独自抚养一个孩子。
申请人为⟪回族|race_ethnicity⟫，⟪信仰|religion⟫伊斯兰教，收入稳定。
客户目前⟪怀孕|pregnancy⟫五个月，计划休⟪产假|pregnancy⟫。
申请人⟪患有|disability_health⟫慢性病，但工作正常。
申请人⟪籍贯|national_origin⟫河南，在上海工作十年。
申请人为⟪女性|sex⟫，⟪年龄|age⟫四十二岁。
客户是⟪残疾人|disability_health⟫，持有⟪残疾证|disability_health⟫。
他在无锡市一家工厂做质检员，工作稳定。
申请人未来三年计划扩大门店。
⟪其丈夫|marital_status⟫的公司⟦倒闭|BUSINESS_DISTRESS|affirmed|third_party⟧了，但申请人本人收入稳定。
申请人的父亲早年⟦赌博|GAMBLING|historical|third_party⟧，与申请人无关。
申请人在银行担任催收专员，负责逾期客户的电话提醒工作。
她在律师事务所负责破产案件，收入较高。
客户称如果订单继续减少，可能会⟦停业|BUSINESS_DISTRESS|hypothetical|applicant⟧。
假如利率上调，借款人可能出现⟦逾期还款|DELINQUENCY|hypothetical|applicant⟧。
申请人2016年有过⟦逾期记录|DELINQUENCY|historical|applicant⟧，已结清，此后无不良。
申请人曾经⟦被公司辞退|EMPLOYMENT_LOSS|historical|applicant⟧，目前已重新就业。
客户账户从未⟦透支|OVERDRAFT|negated|applicant⟧过。
没有发现任何⟦伪造|FRAUD_INDICATOR|negated|applicant⟧材料的迹象。
申请人不存在⟦多头借贷|HIGH_DEBT_BURDEN|negated|applicant⟧情况。
⟪其妻子|marital_status⟫曾经在网上借过⟦现金贷|HIGH_COST_BORROWING|historical|third_party⟧。
Applicant said 她没有⟦逾期|DELINQUENCY|negated|applicant⟧，收入稳定。
申请人提供的工资条显示月收入一万二千元，单位已确认在职。
客户表示最近公司⟦降薪|INCOME_INSTABILITY|affirmed|applicant⟧百分之二十。
申请人在澳门旅游时参观过赌场，但从未⟦赌博|GAMBLING|negated|applicant⟧。
该经销商的⟦订单大幅下降|BUSINESS_DISTRESS|affirmed|applicant⟧，⟦库存积压|BUSINESS_DISTRESS|affirmed|applicant⟧严重。
担保人的账户已被法院⟦冻结|LEGAL_JUDGMENT|affirmed|third_party⟧。
""".strip().splitlines()
# note: "⟦其丈夫|_|_|_⟧" is a typo guard example; the parser treats code "_" as no signal but marks
# marital_status (see _parse)

TERMS = {  # (surface phrase, gold cue inside it)
    "EMPLOYMENT_LOSS": [("失业", "失业"), ("被裁员", "被裁员"), ("下岗", "下岗"), ("被解雇", "被解雇"), ("被辞退", "被辞退")],
    "INCOME_INSTABILITY": [("收入不稳定的情况", "收入不稳定"), ("降薪", "降薪"), ("工资被拖欠", "工资被拖欠"), ("收入大幅下降", "收入大幅下降")],
    "GAMBLING": [("赌博行为", "赌博"), ("网络赌博", "网络赌博"), ("赌债", "赌债"), ("赌球", "赌球")],
    "HIGH_COST_BORROWING": [("网贷", "网贷"), ("高利贷", "高利贷"), ("现金贷", "现金贷"), ("信用卡套现", "信用卡套现"), ("民间借贷", "民间借贷")],
    "DELINQUENCY": [("逾期记录", "逾期记录"), ("逾期还款", "逾期还款"), ("呆账", "呆账"), ("被催收", "催收")],
    "BANKRUPTCY": [("破产", "破产"), ("破产清算", "破产清算"), ("个人破产", "个人破产")],
    "LEGAL_JUDGMENT": [("法院判决", "法院判决"), ("强制执行", "强制执行"), ("诉讼", "诉讼"), ("失信被执行人记录", "失信被执行人")],
    "OVERDRAFT": [("透支", "透支"), ("余额不足", "余额不足"), ("扣款失败", "扣款失败"), ("退票", "退票")],
    "HIGH_DEBT_BURDEN": [("负债过高", "负债过高"), ("以贷养贷", "以贷养贷"), ("多头借贷", "多头借贷"), ("债务负担过重", "债务负担过重")],
    "FRAUD_INDICATOR": [("伪造材料", "伪造"), ("篡改流水", "篡改"), ("冒用他人身份", "冒用他人身份"), ("虚假资料", "虚假资料")],
    "UNVERIFIED_EMPLOYMENT": [("无法核实工作单位", "无法核实工作单位"), ("无法联系雇主", "无法联系雇主"), ("单位电话无人接听", "单位电话无人接听")],
    "BUSINESS_DISTRESS": [("停产", "停产"), ("客户流失", "客户流失"), ("应收账款逾期", "应收账款逾期"), ("资金链断裂", "资金链断裂"), ("订单大幅下降", "订单大幅下降")],
}
APPLICANT = ["申请人", "客户", "借款人", "该客户"]
THIRD = [("其丈夫", "丈夫"), ("其配偶", "配偶"), ("其父亲", None), ("其妻子", "妻子"), ("其担保人", None), ("其弟弟", None)]

# frames: {S} subject, {T} term phrase. Dev and test frames are disjoint.
FRAMES = {
    "dev": {
        "affirmed": ["{S}近期出现{T}。", "经核查，{S}存在{T}。", "{S}目前有{T}，需要关注。", "征信报告显示{S}有{T}。"],
        "negated": ["{S}没有{T}。", "经核查，未发现{S}有{T}。", "{S}否认存在{T}。"],
        "hypothetical": ["如果经济下行，{S}可能出现{T}。", "假如利率上调，{S}或将面临{T}。"],
        "historical": ["{S}曾经有{T}，目前已结清。", "{S}在2012年有过{T}。"],
    },
    "test": {
        "affirmed": ["电话回访确认{S}上月发生{T}。", "调查发现{S}有{T}，请审批人注意。", "{S}本月又出现了{T}。"],
        "negated": ["{S}从未有过{T}。", "系统核查显示{S}并无{T}。", "{S}不存在{T}的情况。"],
        "hypothetical": ["一旦行业不景气，{S}有可能出现{T}。", "{S}担心将来会出现{T}。"],
        "historical": ["{S}早年曾有{T}，现已处理完毕。", "2010年{S}出现过{T}。"],
    },
}
PROTECTED_PREFIX = {
    "dev": [("{X}岁", "age", lambda r: f"申请人今年{r.randint(22, 68)}岁，"), (None, "marital_status", lambda r: "申请人离异，"),
            (None, "religion", lambda r: "申请人信仰佛教，"), (None, "pregnancy", lambda r: "客户目前怀孕，"),
            (None, "race_ethnicity", lambda r: "申请人为藏族，"), (None, "disability_health", lambda r: "申请人有残疾，")],
    "test": [(None, "age", lambda r: f"客户年龄{r.randint(22, 68)}岁，"), (None, "marital_status", lambda r: "申请人已婚，"),
             (None, "national_origin", lambda r: "申请人为外籍人士，"), (None, "sex", lambda r: "申请人为男性，"),
             (None, "disability_health", lambda r: "客户患有癌症，"), (None, "pregnancy", lambda r: "申请人正在哺乳期，")],
}
PROT_WORDS = {"age": r"\d+岁|年龄", "marital_status": "离异|已婚", "religion": "信仰", "pregnancy": "怀孕|哺乳期",
              "race_ethnicity": "藏族", "disability_health": "残疾|患有|癌症", "national_origin": "外籍", "sex": "男性"}
TRAPS = {
    "dev": ["申请人是一名破产律师，主要代理企业客户。", "客户在银行担任催收专员，收入稳定。", "申请人从事网贷监管工作，在金融局任职。",
            "他在当铺工作，担任鉴定师。", "申请人家住无锡市，工作单位在苏州。", "申请人未来打算开一家小超市。",
            "她是一名法官，负责审理民事诉讼案件。", "客户在大学讲授破产法课程。"],
    "test": ["申请人为律师事务所的破产管理人。", "客户在赌场担任保安，收入稳定。", "他负责公司的坏账准备核算工作。",
             "申请人是研究网络赌博问题的学者。", "客户在法院工作，负责强制执行案件的档案管理。", "她的工作是为企业提供反欺诈咨询。",
             "申请人在小贷公司任职，担任风控专员。"],
}


def _parse(line: str) -> dict:
    text, signals, protected = "", [], []
    pos = 0
    for m in re.finditer(r"⟦([^|⟧]+)\|([^|⟧]+)\|([^|⟧]+)\|([^|⟧]+)⟧|⟪([^|⟫]+)\|([^|⟫]+)⟫", line):
        text += line[pos:m.start()]
        start = len(text)
        if m.group(1) is not None:
            cue, code, pol, subj = m.group(1), m.group(2), m.group(3), m.group(4)
            text += cue
            if code == "_":  # relative word only: marital status mention
                protected.append({"category": "marital_status", "start": start + 1, "end": start + len(cue),
                                  "text": cue[1:]})
            else:
                signals.append({"code": code, "polarity": pol, "subject": subj, "cue": cue, "start": start,
                                "end": start + len(cue)})
        else:
            t, cat = m.group(5), m.group(6)
            if t.startswith("其"):
                text += t
                protected.append({"category": cat, "start": start + 1, "end": start + len(t), "text": t[1:]})
            else:
                text += t
                protected.append({"category": cat, "start": start, "end": start + len(t), "text": t})
        pos = m.end()
    text += line[pos:]
    return {"text": text, "signals": signals, "protected": protected}


def gen_notes() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"dev": [], "test": []}
    for i, line in enumerate(CORE):
        row = _parse(line)
        tags = ["trap"] if not row["signals"] and any(w in row["text"] for w in ("律师", "专员", "无锡", "未来", "担任")) else []
        out[split_of(row["text"])].append({"id": f"zh-core-{i:03d}", "kind": "note", "text": row["text"], "source": "hand",
                                           "tags": tags, "signals": row["signals"], "protected": row["protected"],
                                           "reference_year": REF_YEAR})
    for split, seed in (("dev", 11), ("test", 29)):
        rng = random.Random(seed)
        n = 0
        for code, terms in TERMS.items():
            for pol, frames in FRAMES[split].items():
                for _ in range(2 if split == "dev" else 2):
                    phrase, cue = rng.choice(terms)
                    frame = rng.choice(frames)
                    third = rng.random() < 0.25 and pol in ("affirmed", "historical")
                    subj_text, prot_word = (rng.choice(THIRD) if third else (rng.choice(APPLICANT), None))
                    prefix, prot = "", []
                    if rng.random() < 0.3:
                        _, cat, make = rng.choice(PROTECTED_PREFIX[split])
                        prefix = make(rng)
                        pm = re.search(PROT_WORDS[cat], prefix)
                        prot.append({"category": cat, "start": pm.start(), "end": pm.end(), "text": pm.group(0)})
                    body = frame.replace("{S}", subj_text)
                    t_at = body.index("{T}")
                    text = prefix + body.replace("{T}", phrase)
                    base = len(prefix) + t_at
                    cstart = base + phrase.index(cue)
                    sig = {"code": code, "polarity": pol, "subject": "third_party" if third else "applicant", "cue": cue,
                           "start": cstart, "end": cstart + len(cue)}
                    if prot_word:
                        ps = len(prefix) + body.index(prot_word)
                        prot.append({"category": "marital_status", "start": ps, "end": ps + len(prot_word), "text": prot_word})
                    if text in {r["text"] for r in out["dev"] + out["test"]}:
                        continue
                    out[split].append({"id": f"zh-{split}-{n:03d}", "kind": "note", "text": text, "source": "template",
                                       "tags": ["third_party"] if third else [], "signals": [sig], "protected": prot,
                                       "reference_year": REF_YEAR})
                    n += 1
        for t in TRAPS[split]:
            out[split].append({"id": f"zh-{split}-trap-{n:03d}", "kind": "note", "text": t, "source": "template",
                               "tags": ["trap"], "signals": [], "protected": [], "reference_year": REF_YEAR})
            n += 1
    for rows in out.values():
        for r in rows:
            for s in r["signals"]:
                assert r["text"][s["start"]:s["end"]] == s["cue"], (r, s)
            for p in r["protected"]:
                assert r["text"][p["start"]:p["end"]] == p["text"], (r, p)
    return out


# ----------------------------------------------------------------------------- documents
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "桂英", "志强", "建华", "海燕", "晓东"]
CITIES = ["上海", "北京", "杭州", "苏州", "成都", "武汉", "广州", "深圳", "南京", "西安"]
TRADES = ["汽车销售", "家电贸易", "建材", "电子科技", "食品", "服装", "物流", "医疗器械"]
BANKS = ["中国工商银行", "中国建设银行", "招商银行", "中国农业银行", "交通银行", "中国银行"]
TITLES = ["销售经理", "会计", "工程师", "行政主管", "店长", "技术员"]


def name(r: random.Random) -> str:
    return r.choice(SURNAMES) + r.choice(GIVEN)


def company(r: random.Random) -> str:
    return f"{r.choice(CITIES)}{r.choice(['华联', '鑫达', '恒通', '佳美', '远航', '金桥', '润泽'])}{r.choice(TRADES)}有限公司"


def upper_amount(v: float) -> str:
    yuan, cents = int(v), round((v - int(v)) * 100)

    def four(n: int) -> str:
        s, zero = "", False
        for unit, d in (("仟", n // 1000), ("佰", n // 100 % 10), ("拾", n // 10 % 10), ("", n % 10)):
            if d:
                if zero:
                    s += "零"
                s += UP_DIGITS[d] + unit
                zero = False
            elif s:
                zero = True
        return s

    parts = []
    yi, wan, rest = yuan // 100_000_000, yuan // 10_000 % 10_000, yuan % 10_000
    if yi:
        parts.append(four(yi) + "亿")
    if wan:
        parts.append(("零" if yi and wan < 1000 else "") + four(wan) + "万")
    if rest:
        parts.append(("零" if (yi or wan) and rest < 1000 else "") + four(rest))
    s = "".join(parts) + "元"
    if cents:
        j, f = cents // 10, cents % 10
        s += (UP_DIGITS[j] + "角" if j else "") + (UP_DIGITS[f] + "分" if f else "")
    else:
        s += "整"
    return s


def money(r: random.Random, v: float, allow_upper: bool = True) -> str:
    forms = ["yen", "yuan", "rmb", "plain"]
    if allow_upper:
        forms.append("upper")
    if v >= 10_000 and v % 100 == 0:
        forms.append("wan")
    f = r.choice(forms)
    if f == "yen":
        return f"¥{v:,.2f}"
    if f == "yuan":
        return f"{v:,.2f}元"
    if f == "rmb":
        return f"人民币{v:,.2f}元"
    if f == "wan":
        w = v / 10_000
        return f"{w:g}万元"
    if f == "upper":
        return ("人民币" if r.random() < 0.5 else "") + upper_amount(v)
    return f"{v:,.2f}"


CN_D = "〇一二三四五六七八九"


def cn_small(n: int) -> str:
    if n < 10:
        return CN_D[n]
    return ("" if n // 10 == 1 else CN_D[n // 10]) + "十" + (CN_D[n % 10] if n % 10 else "")


def dstr(r: random.Random, d: date) -> str:
    f = r.choice(["cn", "cn", "iso", "slash", "dot", "cnnum"])
    if f == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if f == "iso":
        return d.isoformat()
    if f == "slash":
        return f"{d.year}/{d.month:02d}/{d.day:02d}"
    if f == "dot":
        return f"{d.year}.{d.month:02d}.{d.day:02d}"
    return "".join(CN_D[int(c)] for c in str(d.year)) + f"年{cn_small(d.month)}月{cn_small(d.day)}日"


def rdate(r: random.Random, y0: int, y1: int) -> date:
    return date(y0, 1, 1) + timedelta(days=r.randint(0, (date(y1, 12, 31) - date(y0, 1, 1)).days))


def colon(r: random.Random) -> str:
    return r.choice(["：", "：", ":", "： "])


def doc_business_license(r: random.Random, layout: int) -> tuple[str, dict]:
    comp, rep = company(r), name(r)
    first = r.choice(["91", "92", "93"]) + f"{r.randint(110000, 659000)}" + "".join(
        r.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    code = make_uscc(first)
    if r.random() < 0.15:  # a forged / mistyped code
        code = code[:-1] + ("0" if code[-1] != "0" else "1")
    cap = float(r.choice([100, 200, 500, 1000, 3000]) * 10_000)
    est = rdate(r, 2005, 2023)
    c = colon(r)
    fields = {"company_name": comp, "registration_number": code, "legal_representative": rep,
              "established_date": est.isoformat(), "registered_capital": cap}
    if layout == 0:
        text = (f"营业执照\n（副本）\n统一社会信用代码{c}{code}\n名    称{c}{comp}\n类    型{c}有限责任公司（自然人投资或控股）\n"
                f"法定代表人{c}{rep}\n注册资本{c}{money(r, cap)}\n成立日期{c}{dstr(r, est)}\n营业期限{c}{dstr(r, est)}至长期\n"
                f"住    所{c}{r.choice(CITIES)}市{r.choice(['浦东新区', '高新区', '滨江区'])}{r.choice(['世纪大道', '文三路', '科技路'])}{r.randint(1, 999)}号\n"
                f"经营范围{c}{r.choice(TRADES)}；批发零售。\n登记机关{c}{r.choice(CITIES)}市市场监督管理局\n")
    else:
        text = (f"营业执照\n统一社会信用代码 {code}\n\n名称 {comp}    类型 有限责任公司\n法定代表人 {rep}    注册资本 {money(r, cap)}\n"
                f"成立日期 {dstr(r, est)}    营业期限 长期\n经营范围 {r.choice(TRADES)}\n")
    if r.random() < 0.1:
        text = re.sub(r"成立日期.*\n", "", text)
        del fields["established_date"]
    return text, fields


def doc_pay_stub(r: random.Random, layout: int) -> tuple[str, dict]:
    nm, comp = name(r), company(r)
    gross = float(r.randint(40, 300) * 100 + r.choice([0, 50]))
    net = round(gross * r.uniform(0.72, 0.85), 2)
    pd = rdate(r, 2025, 2026)
    freq_word, freq = r.choice([("月", "monthly"), ("每月", "monthly"), ("双周", "biweekly"), ("每周", "weekly"), ("半月", "semimonthly")])
    mult = {"monthly": 1.0, "biweekly": 26 / 12, "weekly": 52 / 12, "semimonthly": 2.0}[freq]
    ytd = round(gross * r.randint(2, 11), 2)
    c = colon(r)
    fields = {"employee_name": nm, "employer_name": comp, "pay_date": pd.isoformat(), "pay_frequency": freq,
              "gross_pay": gross, "net_pay": net, "ytd_gross": ytd, "monthly_gross_income": round(gross * mult, 2)}
    if layout == 0:
        text = (f"{comp}\n{pd.year}年{pd.month}月工资条\n\n员工姓名{c}{nm}\n发放日期{c}{dstr(r, pd)}\n发薪周期{c}{freq_word}\n"
                f"应发工资{c}{money(r, gross, False)}\n个人所得税{c}{gross * 0.03:,.2f}\n社保个人部分{c}{gross * 0.105:,.2f}\n"
                f"实发工资{c}{money(r, net, False)}\n本年累计应发{c}{money(r, ytd, False)}\n")
    else:
        text = (f"工资单\n公司名称{c}{comp}\n姓名 {nm}    发薪日期 {dstr(r, pd)}\n计薪周期 {freq_word}\n"
                f"应发合计 {money(r, gross, False)}    实发合计 {money(r, net, False)}\n累计应发 {money(r, ytd, False)}\n")
    return text, fields


def doc_bank_statement(r: random.Random, layout: int) -> tuple[str, dict]:
    nm, bank = name(r), r.choice(BANKS)
    end = rdate(r, 2025, 2026)
    start = end - timedelta(days=r.choice([29, 30, 89]))
    ob = float(r.randint(1000, 90000))
    dep = round(r.uniform(5000, 60000), 2)
    wd = round(r.uniform(3000, 55000), 2)
    cb = round(ob + dep - wd, 2)
    nsf = r.choice([0, 0, 0, 1, 2, 3])
    c = colon(r)
    acct = "6222" + "".join(str(r.randint(0, 9)) for _ in range(15))
    fields = {"account_holder": nm, "bank_name": bank, "period_start": start.isoformat(), "period_end": end.isoformat(),
              "opening_balance": ob, "closing_balance": cb, "total_deposits": dep, "total_withdrawals": wd, "nsf_count": nsf}
    if layout == 0:
        text = (f"{bank} 个人账户对账单\n户名{c}{nm}    账号{c}{acct}\n对账期间{c}{dstr(r, start)}至{dstr(r, end)}\n"
                f"期初余额{c}{money(r, ob, False)}\n收入合计{c}{money(r, dep, False)}\n支出合计{c}{money(r, wd, False)}\n"
                f"期末余额{c}{money(r, cb, False)}\n余额不足扣款失败{c}{nsf}笔\n")
    else:
        text = (f"{bank}\n账户交易明细（银行流水）\n客户姓名{c}{nm}\n起始日期 {dstr(r, start)}    截止日期 {dstr(r, end)}\n"
                f"上期余额 {money(r, ob, False)}\n贷方发生额合计 {money(r, dep, False)}\n借方发生额合计 {money(r, wd, False)}\n"
                f"本期余额 {money(r, cb, False)}\n退票笔数 {nsf}\n交易日期    摘要    金额\n{dstr(r, end)}    工资    {dep / 2:,.2f}\n")
    return text, fields


def doc_employment_letter(r: random.Random, layout: int) -> tuple[str, dict]:
    nm, comp, title = name(r), company(r), r.choice(TITLES)
    start = rdate(r, 2008, 2024)
    sal = float(r.randint(6, 60) * 10_000)
    et_word, et = r.choice([("全职", "full_time"), ("兼职", "part_time"), ("劳务派遣", "contract")])
    idn = make_resident_id(f"{r.randint(110000, 650000)}{rdate(r, 1970, 2000).strftime('%Y%m%d')}{r.randint(100, 999)}")
    fields = {"employee_name": nm, "employer_name": comp, "job_title": title, "start_date": start.isoformat(),
              "annual_salary": sal}
    if layout == 0:
        text = (f"收入证明\n\n兹证明{nm}同志（身份证号：{idn}）自{start.year}年{start.month}月{start.day}日起在我单位{comp}工作，"
                f"现任{title}职务，为正式员工，年收入为{money(r, sal)}。\n\n特此证明。\n\n{comp}（盖章）\n{dstr(r, rdate(r, 2025, 2025))}\n")
    else:
        c = colon(r)
        fields["employment_type"] = et
        text = (f"在职及收入证明\n员工姓名{c}{nm}\n单位名称{c}{comp}\n职务{c}{title}\n入职日期{c}{dstr(r, start)}\n"
                f"用工性质{c}{et_word}\n年收入{c}{money(r, sal)}\n特此证明。\n")
    return text, fields


def doc_id_document(r: random.Random, layout: int) -> tuple[str, dict]:
    nm = name(r)
    dob = rdate(r, 1960, 2004)
    sex = r.choice(["男", "女"])
    idn = make_resident_id(f"{r.choice([110101, 310104, 330106, 440305, 510107])}{dob.strftime('%Y%m%d')}{r.randint(100, 999)}")
    issued = rdate(r, 2012, 2024)
    exp = issued.replace(year=issued.year + 20)
    fields = {"full_name": nm, "date_of_birth": dob.isoformat(), "id_number": idn, "expiry_date": exp.isoformat()}
    if layout == 0:
        text = (f"中华人民共和国\n居民身份证\n姓名 {nm}\n性别 {sex}  民族 汉\n出生 {dob.year}年{dob.month}月{dob.day}日\n"
                f"住址 {r.choice(CITIES)}市{r.choice(['朝阳区', '西湖区', '武侯区'])}{r.choice(['建国路', '文一路', '人民南路'])}{r.randint(1, 300)}号\n"
                f"公民身份号码 {idn}\n签发机关 {r.choice(CITIES)}市公安局\n有效期限 {issued:%Y.%m.%d}-{exp:%Y.%m.%d}\n")
    else:
        c = colon(r)
        text = (f"身份证复印件\n姓名{c}{nm}\n性别{c}{sex}\n出生日期{c}{dstr(r, dob)}\n身份证号码{c}{idn}\n"
                f"有效期至{c}{dstr(r, exp)}\n")
    return text, fields


def doc_financial_statement(r: random.Random, layout: int) -> tuple[str, dict]:
    comp = company(r)
    pe = date(r.choice([2023, 2024, 2025]), 12, 31)
    rev = float(r.randint(200, 9000) * 10_000)
    ni = float(round(rev * r.uniform(-0.05, 0.12), -4))
    ta = float(r.randint(100, 6000) * 10_000)
    tl = float(round(ta * r.uniform(0.2, 0.95), -4))
    fields = {"company_name": comp, "period_end": pe.isoformat(), "revenue": rev, "net_income": ni,
              "total_assets": ta, "total_liabilities": tl}
    c = colon(r)
    if layout == 0:
        text = (f"财务报表（简表）\n编制单位{c}{comp}\n报告期末{c}{dstr(r, pe)}\n单位：元\n营业收入{c}{rev:,.2f}\n"
                f"净利润{c}{ni:,.2f}\n资产总计{c}{tl + (ta - tl):,.2f}\n负债合计{c}{tl:,.2f}\n")
    else:
        text = (f"{comp}\n资产负债表及利润表\n截止日期 {dstr(r, pe)}    单位：万元\n项目    金额\n营业总收入    {rev / 10_000:,.2f}\n"
                f"净利润    {ni / 10_000:,.2f}\n资产总计    {ta / 10_000:,.2f}\n负债合计    {tl / 10_000:,.2f}\n")
    return text, fields


def doc_tax_return(r: random.Random, layout: int) -> tuple[str, dict]:
    nm = name(r)
    y = r.choice([2023, 2024, 2025])
    agi = float(r.randint(60, 800) * 1000)
    idn = make_resident_id(f"{r.choice([110101, 310104, 330106])}{rdate(r, 1965, 1998).strftime('%Y%m%d')}{r.randint(100, 999)}")
    c = colon(r)
    fields = {"taxpayer_name": nm, "tax_year": y, "adjusted_gross_income": agi}
    if layout == 0:
        text = (f"个人所得税年度自行纳税申报表（A表）\n税款所属期{c}{y}年1月1日至{y}年12月31日\n纳税人姓名{c}{nm}\n"
                f"纳税人识别号{c}{idn}\n综合所得收入额{c}{money(r, agi, False)}\n应纳税所得额{c}{max(agi - 60000, 0):,.2f}\n"
                f"应纳税额{c}{max(agi - 60000, 0) * 0.1:,.2f}\n")
    else:
        text = (f"纳税申报表\n纳税人{c}{nm}\n所属年度{c}{y}年\n收入合计{c}{money(r, agi, False)}\n已缴税额{c}{agi * 0.05:,.2f}\n")
    return text, fields


def doc_utility_bill(r: random.Random, layout: int) -> tuple[str, dict]:
    nm = name(r)
    amt = round(r.uniform(40, 900), 2)
    c = colon(r)
    fields = {"customer_name": nm, "amount_due": amt}
    due = rdate(r, 2025, 2026)
    if layout == 0:
        text = (f"国网{r.choice(CITIES)}市电力公司\n电费缴费通知单\n户名{c}{nm}\n户号{c}{r.randint(10**9, 10**10 - 1)}\n"
                f"用电量{c}{r.randint(80, 900)}千瓦时\n本期应缴金额{c}{money(r, amt, False)}\n缴费截止日期{c}{dstr(r, due)}\n")
    else:
        text = (f"{r.choice(CITIES)}市自来水公司 水费账单\n用户名称{c}{nm}\n用水量{c}{r.randint(5, 40)}吨\n应缴金额{c}{money(r, amt, False)}\n")
    return text, fields


OTHER = ["房屋租赁合同\n出租方：王建华\n承租方：李芳\n租赁期限：一年\n月租金：3,500元\n双方签字后生效。\n",
         "会议纪要\n时间：2025年5月6日\n参会人员：销售部全体\n议题：第二季度销售目标\n结论：加强渠道建设。\n",
         "体检报告\n姓名：张伟\n检查日期：2025年3月2日\n血压：正常\n结论：未见明显异常。\n",
         "采购订单\n订单号：PO-2025-0311\n供应商：恒通物流有限公司\n数量：200件\n交货日期：2025年4月1日\n",
         "商品房买卖合同（示范文本）\n出卖人：某地产公司\n买受人：陈静\n房屋坐落：成都市武侯区\n",
         "快递签收单\n收件人：刘洋\n地址：杭州市西湖区文三路90号\n签收时间：2025年6月1日\n"]

GENERATORS = {"business_license": doc_business_license, "pay_stub": doc_pay_stub, "bank_statement": doc_bank_statement,
              "employment_letter": doc_employment_letter, "id_document": doc_id_document,
              "financial_statement": doc_financial_statement, "tax_return": doc_tax_return, "utility_bill": doc_utility_bill}


def gen_documents(per_type: int = 14) -> dict[str, list[dict]]:
    rng = random.Random(20260315)
    out: dict[str, list[dict]] = {"dev": [], "test": []}
    for dt, fn in GENERATORS.items():
        for i in range(per_type):
            text, fields = fn(rng, i % 2)
            did = f"zh-{dt}-{i:03d}"
            out[split_of(did)].append({"id": did, "doc_type": dt, "text": text, "fields": fields, "source": "generated"})
    for i, text in enumerate(OTHER):
        did = f"zh-other-{i:03d}"
        out[split_of(did)].append({"id": did, "doc_type": "other", "text": text, "fields": {}, "source": "hand"})
    return out


def main() -> None:
    for kind, data in (("notes", gen_notes()), ("documents", gen_documents())):
        for split, rows in data.items():
            path = OUT / f"zh_{kind}_{split}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
            print(f"{path.name}: {len(rows)}")


if __name__ == "__main__":
    main()
