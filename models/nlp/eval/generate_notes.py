"""Build the notes evaluation set: hand-written core + seeded template generator.

    python models/nlp/eval/generate_notes.py        # rewrites notes_dev.jsonl and notes_test.jsonl

Why templates are split by family: generated notes share phrasing, so a random split would let
the test slice reward memorised templates. Every phrase bank below is partitioned: items at
index % 4 == 3 appear only in test notes, the others only in dev notes. Test therefore checks
that the cue lexicons generalise to phrasings never seen while tuning. The hand-written core
(notes_core.txt) is split 65/35 by a seeded shuffle.

Each JSONL row: {"id", "kind", "text", "source", "tags",
                 "signals": [{"code", "polarity", "subject", "cue", "start", "end"}],
                 "protected": [{"category", "text", "start", "end"}]}
Offsets are located with str.find (left to right); a cue must occur in its text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20250601
REFERENCE_YEAR = 2025
N_GENERATED = 340
POL = {"A": "affirmed", "N": "negated", "H": "hypothetical", "P": "historical"}
SUBJ = {"a": "applicant", "t": "third_party"}

# ----------------------------------------------------------------------------- subjects
# (Subject, pronoun, possessive, protected mentions inside the phrase)
APPLICANT = [
    ("The applicant", "she", "her", []), ("Applicant", "he", "his", []), ("She", "she", "her", []),
    ("The borrower", "he", "his", []), ("He", "he", "his", []), ("The customer", "she", "her", []),
    ("Our applicant", "she", "her", []), ("The client", "he", "his", []),
]
THIRD = [
    ("Her husband", "he", "his", [("marital_status", "husband")]),
    ("His wife", "she", "her", [("marital_status", "wife")]),
    ("Her brother", "he", "his", []),
    ("The applicant's sister", "she", "her", []),
    ("His father", "he", "his", []),
    ("Her roommate", "she", "her", []),
    ("The applicant's spouse", "they", "their", [("marital_status", "spouse")]),
    ("His business partner", "he", "his", []),
    ("Her son", "he", "his", []),
    ("The co-signer", "she", "her", []),
    ("A close friend of the applicant", "he", "his", []),
    ("His mother", "she", "her", []),
]
FIRM = [("The dealer", "it", "its", []), ("The dealership", "it", "its", []), ("The company", "it", "its", []),
        ("The business", "it", "its", [])]
FIRM_THIRD = [("The anchor partner", "it", "its", []), ("One of the dealer's suppliers", "it", "its", []),
              ("A competitor of the dealer", "it", "its", []), ("The landlord's company", "it", "its", [])]

# ----------------------------------------------------------------------------- events per code
# Each list holds (clause, cue). {p} = possessive of the subject. Clauses follow the subject.
AFF = {
    "EMPLOYMENT_LOSS": [("was laid off in March", "laid off"), ("lost {p} job at the distribution center", "lost {p} job"),
                        ("was fired last month", "was fired"), ("has been unemployed since the spring", "unemployed"),
                        ("was let go after the merger", "was let go"), ("is out of work after the plant closed", "out of work"),
                        ("had {p} position eliminated in a restructuring", "position eliminated"), ("was furloughed for the winter", "furloughed")],
    "INCOME_INSTABILITY": [("has irregular income from freelance design", "irregular income"), ("had {p} hours cut to 20 a week", "hours cut"),
                           ("earns seasonal income from landscaping", "seasonal income"), ("relies on gig work for most income", "gig work"),
                           ("took a pay cut of 15% this year", "pay cut"), ("has variable commissions that swing month to month", "variable commissions"),
                           ("saw {p} income drop after the contract ended", "income drop"), ("works on a zero-hours contract", "zero-hours contract")],
    "GAMBLING": [("spends heavily at the casino on weekends", "casino"), ("has frequent sports betting deposits", "sports betting"),
                 ("lost about $6,000 gambling this year", "gambling"), ("plays online poker most nights", "poker"),
                 ("has repeated DraftKings transfers on the statement", "DraftKings"), ("buys lottery tickets daily", "lottery tickets"),
                 ("admits to a gambling habit", "gambling"), ("wagers on horse races every week", "wagers")],
    "HIGH_COST_BORROWING": [("took out a payday loan last month", "payday loan"), ("has three cash advances outstanding", "cash advances"),
                            ("pawned a laptop to pay the electric bill", "pawned"), ("has a car title loan at 180% APR", "title loan"),
                            ("uses buy now pay later for groceries", "buy now pay later"), ("borrowed from a payday lender twice this quarter", "payday lender"),
                            ("financed furniture through a rent-to-own store", "rent-to-own"), ("relies on check cashing services", "check cashing")],
    "DELINQUENCY": [("missed two payments on the auto loan", "missed two payments"), ("is 60 days past due on a credit card", "60 days past due"),
                    ("has an account in collections", "in collections"), ("had a credit card charged off this year", "charged off"),
                    ("is behind on rent by two months", "behind on rent"), ("made several late payments this year", "late payments"),
                    ("defaulted on a personal loan", "defaulted"), ("has a delinquent student loan", "delinquent")],
    "BANKRUPTCY": [("filed for bankruptcy this spring", "filed for bankruptcy"), ("is in an active Chapter 13 plan", "Chapter 13"),
                   ("declared bankruptcy in January", "declared bankruptcy"), ("is currently bankrupt", "bankrupt"),
                   ("entered insolvency proceedings", "insolvency"), ("filed for Chapter 7 last month", "filed for Chapter 7"),
                   ("has a pending bankruptcy case", "bankruptcy"), ("went bankrupt this year", "bankrupt")],
    "LEGAL_JUDGMENT": [("has a civil judgment against {p} name", "civil judgment"), ("has wages garnished for an unpaid loan", "garnished"),
                       ("is being sued by a former landlord", "being sued"), ("has a federal tax lien on record", "tax lien"),
                       ("was evicted in June", "evicted"), ("is a defendant in a lawsuit over unpaid invoices", "lawsuit"),
                       ("has a judgment from small claims court", "judgment"), ("faces a bank levy on {p} account", "levy")],
    "OVERDRAFT": [("overdrew the checking account four times", "overdrew"), ("has repeated NSF fees on the statement", "NSF fees"),
                  ("had two returned payments in April", "returned payments"), ("bounced a rent check last month", "bounced a rent check"),
                  ("has a negative balance most weeks", "negative balance"), ("pays overdraft fees every month", "overdraft fees"),
                  ("had insufficient funds for the mortgage draft", "insufficient funds"), ("was overdrawn for nine days in May", "overdrawn")],
    "HIGH_DEBT_BURDEN": [("has maxed out all three credit cards", "maxed out"), ("carries a high debt-to-income ratio", "high debt-to-income ratio"),
                         ("has significant credit card debt", "significant credit card debt"), ("is heavily leveraged after buying two cars", "heavily leveraged"),
                         ("is at the credit limit on every card", "at the credit limit"), ("has mounting medical debt", "mounting medical debt"),
                         ("has a DTI of 58%", "DTI of 58%"), ("has too much debt for the stated income", "too much debt")],
    "FRAUD_INDICATOR": [("submitted a pay stub that appears altered", "appears altered"), ("provided a forged employment letter", "forged employment letter"),
                        ("gave an SSN that does not match the name", "does not match"), ("has a name mismatch across documents", "name mismatch"),
                        ("submitted a doctored bank statement", "doctored bank statement"), ("shows signs of a synthetic identity", "synthetic identity"),
                        ("used a fake ID at the branch", "fake ID"), ("has a date of birth that doesn't match the ID", "doesn't match")],
    "UNVERIFIED_EMPLOYMENT": [("has employment we could not verify", "could not verify"), ("lists an employer that did not respond to calls", "employer that did not respond"),
                              ("has unverified employment at a staffing agency", "unverified employment"), ("gave an employer phone number that is disconnected", "phone number that is disconnected"),
                              ("has a job that could not be confirmed with HR", "could not be confirmed"), ("named an employer we were unable to reach", "unable to reach"),
                              ("has an employment history that remains unverified", "remains unverified"), ("gave an employer with no record of the business", "no record of the business")],
    "BUSINESS_DISTRESS": [("lost its largest customer in the spring", "lost its largest customer"), ("has overdue receivables from two fleet buyers", "overdue receivables"),
                          ("halted operations for a month", "halted operations"), ("reported declining sales for three quarters", "declining sales"),
                          ("is facing cash flow problems", "cash flow problems"), ("missed payroll in October", "missed payroll"),
                          ("had suppliers cut off credit", "suppliers cut off credit"), ("laid off half of its staff", "laid off half of its staff")],
}
# Negated sentences: {S} subject, {s} pronoun, {p} possessive; (sentence, cue)
NEG = {
    "EMPLOYMENT_LOSS": [("{S} has never been laid off.", "laid off"), ("{S} is not unemployed.", "unemployed"),
                        ("There is no sign that {s} lost {p} job.", "lost {p} job"), ("{S} denies being fired.", "fired")],
    "INCOME_INSTABILITY": [("{S} has no irregular income.", "irregular income"), ("{S} has not had hours cut.", "hours cut"),
                           ("No evidence of seasonal income for {s}.", "seasonal income"), ("{S} has no pay cut this year.", "pay cut")],
    "GAMBLING": [("{S} has no gambling transactions.", "gambling"), ("No casino activity was found for {s}.", "casino"),
                 ("{S} denies any betting.", "betting"), ("{S} never gambles.", "gambles")],
    "HIGH_COST_BORROWING": [("{S} has no payday loans.", "payday loans"), ("{S} has never used a pawn shop.", "pawn shop"),
                            ("No cash advances appear for {s}.", "cash advances"), ("{S} does not use title loans.", "title loans")],
    "DELINQUENCY": [("{S} has no late payments.", "late payments"), ("{S} has never missed a payment.", "missed a payment"),
                    ("No collection accounts were found for {s}.", "collection accounts"), ("{S} is not past due on any account.", "past due")],
    "BANKRUPTCY": [("{S} has no history of bankruptcy.", "bankruptcy"), ("{S} has never filed for bankruptcy.", "filed for bankruptcy"),
                   ("No bankruptcy appears for {s}.", "bankruptcy"), ("{S} is not insolvent.", "insolvent")],
    "LEGAL_JUDGMENT": [("{S} has no judgments on file.", "judgments"), ("{S} has never been sued.", "sued"),
                       ("No garnishment was found for {s}.", "garnishment"), ("{S} has no lawsuits pending.", "lawsuits")],
    "OVERDRAFT": [("{S} has no overdrafts.", "overdrafts"), ("No NSF fees appear for {s}.", "NSF fees"),
                  ("{S} has never bounced a check.", "bounced a check"), ("{S} has zero returned items.", "returned items")],
    "HIGH_DEBT_BURDEN": [("{S} has no maxed out cards.", "maxed out"), ("{S} does not have high utilization.", "high utilization"),
                         ("No evidence of heavy debt for {s}.", "heavy debt"), ("{S} is not overextended.", "overextended")],
    "FRAUD_INDICATOR": [("No evidence of altered documents from {s}.", "altered documents"), ("{S} shows no signs of fraud.", "fraud"),
                        ("No identity mismatch was found for {s}.", "identity mismatch"), ("{S} has no forged signatures on file.", "forged signatures")],
    "UNVERIFIED_EMPLOYMENT": [("{S} has no unverified employment.", "unverified employment"), ("There is no unconfirmed employer for {s}.", "unconfirmed employer"),
                              ("{S} has no unverifiable job on the application.", "unverifiable job"), ("No unverified income sources for {s}.", "unverified income")],
    "BUSINESS_DISTRESS": [("{S} has no overdue receivables.", "overdue receivables"), ("{S} has not halted operations.", "halted operations"),
                          ("No declining sales were reported by {s}.", "declining sales"), ("{S} has no cash flow problems.", "cash flow problems")],
}
# Hypothetical sentences.
HYP = {
    "EMPLOYMENT_LOSS": [("If the plant closes, {s} might lose {p} job.", "lose {p} job"), ("{S} could be laid off next quarter.", "laid off"),
                        ("{S} is worried about being fired if sales slow.", "fired"), ("In case the contract ends, {s} would be out of work.", "out of work")],
    "INCOME_INSTABILITY": [("{S} may see {p} hours cut in winter.", "hours cut"), ("If orders fall, {s} could take a pay cut.", "pay cut"),
                           ("{S} might move to seasonal work next year.", "seasonal work"), ("{S} is concerned that {p} income could become irregular.", "income could become irregular")],
    "GAMBLING": [("{S} could be tempted by online gambling on the trip.", "gambling"), ("{S} might visit a casino on the trip.", "casino"),
                 ("{S} is considering sports betting as a hobby.", "sports betting"), ("It is unclear whether {s} plays poker.", "poker")],
    "HIGH_COST_BORROWING": [("{S} may need a payday loan if the car breaks down.", "payday loan"), ("If the refund is late, {s} could take a cash advance.", "cash advance"),
                            ("{S} might pawn tools to cover a gap.", "pawn"), ("{S} is thinking about a title loan.", "title loan")],
    "DELINQUENCY": [("If hours drop, {s} could miss payments.", "miss payments"), ("{S} might fall behind on rent next month.", "behind on rent"),
                    ("{S} would go into default if rates rise.", "default"), ("{S} is at risk of late payments this winter.", "late payments")],
    "BANKRUPTCY": [("{S} may file for bankruptcy if sales keep falling.", "file for bankruptcy"), ("{S} is considering bankruptcy.", "bankruptcy"),
                   ("If the business fails, {s} could go bankrupt.", "bankrupt"), ("{S} might enter insolvency.", "insolvency")],
    "LEGAL_JUDGMENT": [("{S} could face a judgment if the claim succeeds.", "judgment"), ("If the debt is not paid, {s} may have wages garnished.", "garnished"),
                       ("{S} might be sued by the contractor.", "sued"), ("A lien could be filed against {p} home.", "lien")],
    "OVERDRAFT": [("{S} might overdraw the account if payroll is late.", "overdraw"), ("If the transfer fails, {s} could incur NSF fees.", "NSF fees"),
                  ("{S} would face overdraft fees without the loan.", "overdraft fees"), ("{S} may bounce a check this month.", "bounce a check")],
    "HIGH_DEBT_BURDEN": [("If approved, {s} would be near the credit limit.", "near the credit limit"), ("{S} could end up with too much debt.", "too much debt"),
                         ("{S} might max out the new card.", "max out"), ("{S} is considering debt consolidation.", "debt consolidation")],
    "FRAUD_INDICATOR": [("The pay stub might be altered; originals requested from {s}.", "altered"), ("It is possible the ID is fake, so {s} must visit the branch.", "fake"),
                        ("{S} could be using a synthetic identity.", "synthetic identity"), ("The officer suspects the statement was doctored by {s}.", "doctored")],
    "UNVERIFIED_EMPLOYMENT": [("If the employer does not respond, {p} employment would remain unverified.", "unverified"), ("{S} may have unverified income if HR stays silent.", "unverified income"),
                              ("It is possible {p} employer could not be verified by Friday.", "could not be verified"), ("{S} might have an unconfirmed employer.", "unconfirmed employer")],
    "BUSINESS_DISTRESS": [("If the anchor contract ends, {s} could lose its main customer.", "lose its main customer"), ("{S} might halt production in August.", "halt production"),
                          ("{S} may face cash flow problems in winter.", "cash flow problems"), ("{S} is worried about declining sales.", "declining sales")],
}
# Historical sentences; (sentence, cue). Years at least 3 before REFERENCE_YEAR.
HIST = {
    "EMPLOYMENT_LOSS": [("{S} was laid off in 2012 and rehired the same year.", "laid off"), ("{S} was unemployed about ten years ago.", "unemployed"),
                        ("{S} previously lost a job during the 2009 recession.", "lost a job"), ("{S} was furloughed in 2020, since resolved.", "furloughed")],
    "INCOME_INSTABILITY": [("{S} had irregular income in 2014 as a freelancer.", "irregular income"), ("{S} previously relied on seasonal work.", "seasonal work"),
                           ("{S} had hours cut in 2016, since restored.", "hours cut"), ("{S} formerly did gig work.", "gig work")],
    "GAMBLING": [("{S} used to gamble in college.", "gamble"), ("{S} had casino debts in 2011 that were repaid.", "casino"),
                 ("{S} previously had a betting problem, years ago.", "betting"), ("{S} played poker heavily in 2008.", "poker")],
    "HIGH_COST_BORROWING": [("{S} had a payday loan in 2013, repaid.", "payday loan"), ("{S} formerly used pawn shops.", "pawn shops"),
                            ("{S} used cash advances years ago.", "cash advances"), ("{S} had a title loan in 2015 that was paid off.", "title loan")],
    "DELINQUENCY": [("{S} had late payments in 2014, resolved since.", "late payments"), ("{S} had a collection account that was paid off.", "collection account"),
                    ("{S} previously defaulted on a card in 2010.", "defaulted"), ("{S} had a charge-off about eight years ago.", "charge-off")],
    "BANKRUPTCY": [("{S} filed for bankruptcy in 2009, discharged in 2010.", "filed for bankruptcy"), ("{S} had a prior Chapter 7 in 2012.", "Chapter 7"),
                   ("{S} went bankrupt years ago.", "bankrupt"), ("{S} had a bankruptcy that was discharged in 2015.", "bankruptcy")],
    "LEGAL_JUDGMENT": [("{S} had a judgment in 2012 that was satisfied.", "judgment"), ("{S} had a tax lien released in 2016.", "tax lien"),
                       ("{S} was sued in 2010; the case was dismissed.", "sued"), ("{S} had wages garnished years ago.", "garnished")],
    "OVERDRAFT": [("{S} had overdrafts in 2015, none since.", "overdrafts"), ("{S} previously had NSF fees as a student.", "NSF fees"),
                  ("{S} bounced checks years ago.", "bounced checks"), ("{S} was overdrawn in 2019 but fixed it.", "overdrawn")],
    "HIGH_DEBT_BURDEN": [("{S} had maxed out cards in 2014, paid off.", "maxed out"), ("{S} previously had heavy debt from school.", "heavy debt"),
                         ("{S} was overextended years ago.", "overextended"), ("{S} had high utilization in 2018, since resolved.", "high utilization")],
    "FRAUD_INDICATOR": [("{S} was a victim of identity theft in 2012, resolved.", "identity theft"), ("{S} had a fraud alert case in 2013 that was closed.", "fraud"),
                        ("{S} previously reported a forged check in 2011.", "forged check"), ("{S} had an address mismatch years ago, resolved.", "address mismatch")],
    "UNVERIFIED_EMPLOYMENT": [("{S} had unverified employment in 2014, resolved later.", "unverified employment"), ("{S} previously had an unconfirmed employer in 2016.", "unconfirmed employer"),
                              ("{S} had unverifiable income years ago.", "unverifiable income"), ("{S} formerly had an unverified job in 2015.", "unverified job")],
    "BUSINESS_DISTRESS": [("{S} lost a major customer in 2012 but recovered.", "lost a major customer"), ("{S} halted operations in 2015, resolved since.", "halted operations"),
                          ("{S} had declining sales in 2016.", "declining sales"), ("{S} previously had cash flow problems years ago.", "cash flow problems")],
}
TRAPS = [
    "{S} works as a casino dealer and has steady tips.", "{S} is a paralegal who prepares bankruptcy filings for clients.",
    "{S} is a collections department manager at a bank.", "{S} is a payday loan compliance officer.",
    "{S} works as a debt collector for a utility.", "{S} is a foreclosure attorney at a small firm.",
    "{S} works in the fraud department of a credit union.", "{S} is a gambling addiction counselor.",
    "{S} is a bankruptcy trustee for the district.", "{S} works as a repossession agent.",
    "{S} handles wage garnishment orders for the payroll team.", "{S} teaches a course on bankruptcy law.",
    "{S} is an overdraft fee analyst at a regional bank.", "{S} works at a pawn shop as a cashier.",
    "{S} is a lien processor at a title company.", "{S} prepares charge-off reports for the credit committee.",
]
NEUTRAL = [
    "Stable residence for six years.", "Requested amount covers a used car.", "Salary verified with HR by phone.",
    "Has a savings account with regular deposits.", "Credit file is thin but clean.", "Rent is paid by bank transfer.",
    "Contacted by phone on Tuesday.", "Two dependents listed on the application.", "Employer is a public school district.",
    "Checking account open since 2011.", "Documents received by email.", "Prefers a 24-month term.",
]
PROTECTED = [
    ("{S} is a {n}-year-old nurse.", [("age", "{n}-year-old")]), ("{S} is pregnant with a second child.", [("pregnancy", "pregnant")]),
    ("{S} is divorced and lives alone.", [("marital_status", "divorced")]), ("{S} was recently widowed.", [("marital_status", "widowed")]),
    ("{S} is a practicing Muslim.", [("religion", "Muslim")]), ("{S} attends a Hindu temple weekly.", [("religion", "Hindu")]),
    ("{S} is Latino and bilingual.", [("race_ethnicity", "Latino")]), ("{S} is African American and owns a barbershop.", [("race_ethnicity", "African American")]),
    ("{S} immigrated from Vietnam in 2005.", [("national_origin", "immigrated"), ("national_origin", "from Vietnam")]),
    ("{S} is an immigrant from Poland.", [("national_origin", "immigrant"), ("national_origin", "from Poland")]),
    ("{S} uses a wheelchair at work.", [("disability_health", "wheelchair")]), ("{S} has multiple sclerosis.", [("disability_health", "multiple sclerosis")]),
    ("{S} is deaf and prefers email.", [("disability_health", "deaf")]), ("{S} is on maternity leave until May.", [("pregnancy", "maternity leave")]),
    ("{S} is married with two kids.", [("marital_status", "married")]), ("{S} is a 61 year old retiree.", [("age", "61 year old")]),
    ("{S} is a Buddhist monk's nephew.", [("religion", "Buddhist")]), ("{S} is Native American and lives on tribal land.", [("race_ethnicity", "Native American")]),
    ("{S} has a green card.", [("national_origin", "green card")]), ("{S} has diabetes and works full time.", [("disability_health", "diabetes")]),
    ("{S} is a single mother of three.", [("marital_status", "single mother"), ("sex", "mother of")]),
    ("{S} is a woman in her forties.", [("sex", "woman"), ("age", "in her forties")]),
    ("{S} is Jewish and observes Shabbat.", [("religion", "Jewish"), ("religion", "Shabbat")]),
    ("{S} is expecting a baby in June.", [("pregnancy", "expecting a baby")]),
]


def _half(items: list, test: bool) -> list:
    """Template family partition: index % 4 == 3 -> test only; the rest -> dev only."""
    return [x for i, x in enumerate(items) if (i % 4 == 3) == test]


def _locate(text: str, needle: str, after: int = 0) -> tuple[int, int]:
    i = text.find(needle, after)
    if i < 0:
        i = text.lower().find(needle.lower(), after)
    if i < 0:
        raise ValueError(f"cue {needle!r} not in {text!r}")
    return i, i + len(needle)


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


def _sentence(rng: random.Random, test: bool) -> tuple[str, list[dict], list[tuple[str, str]], str]:
    """One random sentence: (text, signals without offsets, protected, tag)."""
    code = rng.choice(list(AFF))
    pol = rng.choices("ANHP", weights=[4, 2, 2, 2])[0]
    firm = code == "BUSINESS_DISTRESS"
    third = rng.random() < 0.3
    pool = (FIRM_THIRD if third else FIRM) if firm else (THIRD if third else APPLICANT)
    S, s, p, prot = rng.choice(_half(pool, test))
    if pol == "A":
        clause, cue = rng.choice(_half(AFF[code], test))
        text = f"{S} {clause}."
    else:
        bank = {"N": NEG, "H": HYP, "P": HIST}[pol][code]
        tmpl, cue = rng.choice(_half(bank, test))
        if "{S}" not in tmpl:  # the subject must be named somewhere, not only as a pronoun
            tmpl = tmpl.replace("{s}", S[0].lower() + S[1:] if S.split()[0] in ("The", "Her", "His", "A", "One", "Our") else S, 1)
        text = _cap(tmpl.replace("{S}", S))
    text = text.replace("{p}", p).replace("{s}", s).replace("{S}", S)
    cue = cue.replace("{p}", p)
    sig = {"code": code, "polarity": POL[pol], "subject": "third_party" if third else "applicant", "cue": cue}
    return text, [sig], list(prot), f"{POL[pol]}/{'third' if third else 'applicant'}"


def generate(n: int, test: bool, rng: random.Random, start_id: int) -> list[dict]:
    rows: list[dict] = []
    for k in range(n):
        parts: list[tuple[str, list[dict], list[tuple[str, str]]]] = []
        tags: list[str] = []
        r = rng.random()
        if r < 0.12:  # neutral-vocabulary trap, maybe with a real signal after it
            S, s, p, prot = rng.choice(_half(APPLICANT, test))
            parts.append((rng.choice(_half(TRAPS, test)).replace("{S}", S), [], list(prot)))
            tags.append("trap")
            if rng.random() < 0.4:
                t, sig, pr, tag = _sentence(rng, test)
                parts.append((t, sig, pr)); tags.append(tag)
        else:
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                t, sig, pr, tag = _sentence(rng, test)
                parts.append((t, sig, pr)); tags.append(tag)
        if rng.random() < 0.35:
            tmpl, prot = rng.choice(_half(PROTECTED, test))
            S = rng.choice(["The applicant", "She", "He", "Applicant"])
            nval = str(rng.randint(19, 78))
            parts.insert(rng.randint(0, len(parts)), (tmpl.replace("{S}", S).replace("{n}", nval),
                                                      [], [(c, w.replace("{n}", nval)) for c, w in prot]))
            tags.append("protected")
        if rng.random() < 0.4:
            parts.insert(rng.randint(0, len(parts)), (rng.choice(_half(NEUTRAL, test)), [], []))
        text = ""
        signals: list[dict] = []
        protected: list[dict] = []
        for sent, sigs, prots in parts:
            base = len(text) + (1 if text else 0)
            text = f"{text} {sent}" if text else sent
            for sig in sigs:
                a, b = _locate(text, sig["cue"], base)
                signals.append({**sig, "cue": text[a:b], "start": a, "end": b})
            for cat, words in prots:
                a, b = _locate(text, words, base)
                protected.append({"category": cat, "text": text[a:b], "start": a, "end": b})
        rows.append({"id": f"gen-{start_id + k:04d}", "kind": "note", "text": text, "source": "generated",
                     "tags": sorted(set(tags)), "signals": signals, "protected": protected})
    return rows


def parse_core(path: Path) -> list[dict]:
    rows: list[dict] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        head, sigs, prots = (line.split("||") + ["", ""])[:3]
        kind, text = (x.strip() for x in head.split("|", 1))
        text = text.replace("\\n", "\n")
        signals: list[dict] = []
        for item in filter(None, (x.strip() for x in sigs.split(";"))):
            code, pol, subj, cue = item.split(":", 3)
            a, b = _locate(text, cue.strip())
            signals.append({"code": code.strip(), "polarity": POL[pol.strip()], "subject": SUBJ[subj.strip()],
                            "cue": text[a:b], "start": a, "end": b})
        protected: list[dict] = []
        for item in filter(None, (x.strip() for x in prots.split(";"))):
            cat, words = item.split(":", 1)
            a, b = _locate(text, words.strip())
            protected.append({"category": cat.strip(), "text": text[a:b], "start": a, "end": b})
        tags = ["trap"] if not signals and not protected else []
        rows.append({"id": f"core-{lineno:04d}", "kind": kind, "text": text, "source": "hand", "tags": tags,
                     "signals": signals, "protected": protected})
    return rows


def main() -> None:
    rng = random.Random(SEED)
    core = parse_core(HERE / "notes_core.txt")
    order = list(range(len(core)))
    rng.shuffle(order)
    n_test = round(len(core) * 0.35)
    test_ids = set(order[:n_test])
    core_dev = [r for i, r in enumerate(core) if i not in test_ids]
    core_test = [r for i, r in enumerate(core) if i in test_ids]
    n_gen_test = round(N_GENERATED * 0.4)
    gen_dev = generate(N_GENERATED - n_gen_test, False, random.Random(SEED + 1), 1)
    gen_test = generate(n_gen_test, True, random.Random(SEED + 2), 5001)
    for name, rows in (("notes_dev.jsonl", core_dev + gen_dev), ("notes_test.jsonl", core_test + gen_test)):
        with (HERE / name).open("w", encoding="utf-8") as fh:
            for row in rows:
                row["reference_year"] = REFERENCE_YEAR
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)} notes")


if __name__ == "__main__":
    main()
