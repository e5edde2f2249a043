/* creditflow officer console: a thin client of the review API (/v1/review/...).
 *
 * Rules this file keeps:
 * - Untrusted text (applicant data, documents, notes, comments, server messages) only ever
 *   reaches the page through textContent / createTextNode / setAttribute on safe attributes.
 *   There is no innerHTML anywhere, and the page's CSP forbids inline script anyway.
 * - The API decides; the page only shows what it says and explains its errors in plain words.
 * - NLP offsets are Python str indices (Unicode code points). JavaScript strings index UTF-16
 *   code units, which differ after any character outside the Basic Multilingual Plane
 *   (emoji, rare CJK ideographs in Extension B+), so every span is converted before slicing.
 */
"use strict";

(function () {
  const TOKEN_KEY = "creditflow.token";
  const WHO_KEY = "creditflow.who";
  const POLARITY_RANK = { affirmed: 4, hypothetical: 3, historical: 2, negated: 1 };
  const SVG_NS = "http://www.w3.org/2000/svg";

  const state = { token: null, who: null, task: null, taskId: null, pollTimer: null };

  // ---------------------------------------------------------------- DOM helpers (text nodes only)

  const $ = (id) => document.getElementById(id);

  /** Create an element; string/number children become text nodes, null/false are skipped. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function say(text) {
    $("errors").textContent = "";
    $("messages").textContent = text;
  }

  function complain(text) {
    $("messages").textContent = "";
    $("errors").textContent = text;
  }

  function hush() {
    $("messages").textContent = "";
    $("errors").textContent = "";
  }

  // ---------------------------------------------------------------- formatting

  function fmtMoney(value, currency) {
    if (value === null || value === undefined || value === "") return "—";
    const n = Number(value);
    if (!Number.isFinite(n)) return String(value);
    try {
      return new Intl.NumberFormat("en-US", { style: "currency", currency: currency || "USD" }).format(n);
    } catch (_e) {
      return n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
  }

  function fmtNumber(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "number") return value.toLocaleString("en-US", { maximumFractionDigits: 4 });
    return String(value);
  }

  /** ISO timestamp -> "2025-03-01 14:05 UTC": unambiguous for officers in any time zone. */
  function fmtTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }

  function timeEl(iso) {
    return el("time", { datetime: iso || null }, fmtTime(iso));
  }

  function isOverdue(iso) {
    if (!iso) return false;
    const t = Date.parse(iso);
    return Number.isFinite(t) && t < Date.now();
  }

  function humanise(key) {
    const s = String(key).replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function shortHash(h) {
    return typeof h === "string" && h.length > 12 ? h.slice(0, 12) + "…" : h || "—";
  }

  // ---------------------------------------------------------------- offsets and highlighting

  /** map[i] = UTF-16 index of code point i (map.length = number of code points + 1). */
  function codePointMap(text) {
    const map = [0];
    let u = 0;
    for (const ch of text) {
      u += ch.length;
      map.push(u);
    }
    return map;
  }

  /**
   * Convert a [start, end) span in code points to UTF-16 units. When `expected` (the evidence
   * text the NLP service quoted) is given and does not match, fall back to the span read as
   * UTF-16 and then to a search for the quote, so a producer's off-by-one never shows the
   * officer the wrong words. Returns null when the span cannot be placed.
   */
  function placeSpan(text, map, start, end, expected) {
    const cps = map.length - 1;
    const ok = (s, e) => Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e > s && e <= text.length;
    const matches = (s, e) => expected === undefined || expected === null || text.slice(s, e) === expected;
    if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= cps) {
      const s = map[start], e = map[end];
      if (ok(s, e) && matches(s, e)) return { start: s, end: e };
    }
    if (ok(start, end) && matches(start, end)) return { start, end };
    if (typeof expected === "string" && expected.length > 0) {
      const at = text.indexOf(expected);
      if (at >= 0) return { start: at, end: at + expected.length };
    }
    return null;
  }

  /** Everything worth marking in `text` from one Analysis: risk signals, protected mentions, fields. */
  function collectAnnotations(text, analysis) {
    const out = [];
    const unplaced = [];
    if (!analysis || typeof text !== "string") return { annotations: out, unplaced };
    const map = codePointMap(text);
    (analysis.risk_signals || []).forEach((sig) => {
      const ev = sig.evidence || {};
      const span = placeSpan(text, map, ev.start, ev.end, ev.text);
      const label = `${sig.code} · ${sig.polarity}` + (sig.subject === "third_party" ? " · third party" : "");
      const ann = { kind: "risk", code: sig.code, polarity: sig.polarity, subject: sig.subject,
                    severity: sig.severity, label };
      if (span) out.push(Object.assign(ann, span));
      else unplaced.push(ann);
    });
    (analysis.protected_attributes || []).forEach((pa) => {
      const span = placeSpan(text, map, pa.start, pa.end);
      const ann = { kind: "protected", category: pa.category, label: `do not consider: ${pa.category}` };
      if (span) out.push(Object.assign(ann, span));
      else unplaced.push(ann);
    });
    Object.entries(analysis.fields || {}).forEach(([name, f]) => {
      if (!f || f.start === f.end) return; // derived fields (e.g. monthly income) have no own words
      const span = placeSpan(text, map, f.start, f.end);
      if (span) out.push(Object.assign({ kind: "field", field: name, label: `field: ${name}` }, span));
    });
    return { annotations: out, unplaced };
  }

  /**
   * Split text at every annotation boundary. Each segment lists the annotations covering it
   * and those ending at its end (where their text tag goes), so overlapping and nested spans
   * are all shown without breaking the text apart.
   */
  function buildSegments(text, annotations) {
    const cuts = new Set([0, text.length]);
    annotations.forEach((a) => { cuts.add(a.start); cuts.add(a.end); });
    const points = Array.from(cuts).filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
    const segments = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const s = points[i], e = points[i + 1];
      if (e <= s) continue;
      const covering = [], ending = [];
      annotations.forEach((a, idx) => {
        if (a.start <= s && a.end >= e) covering.push(idx);
        if (a.end === e) ending.push(idx);
      });
      segments.push({ start: s, end: e, text: text.slice(s, e), covering, ending });
    }
    return segments;
  }

  function tagFor(ann) {
    if (ann.kind === "risk") return el("span", { class: `tag tag-${ann.polarity}`, "data-code": ann.code }, ann.label);
    if (ann.kind === "protected") return el("span", { class: "tag tag-protected", "data-category": ann.category }, ann.label);
    return null; // fields are listed in their own table; a tag per field would drown the text
  }

  /** The text as a <div> with <mark>s for every annotation and a text tag after each risk/protected span. */
  function renderHighlighted(text, analysis) {
    const box = el("div", { class: "doctext", lang: analysis && analysis.language === "zh" ? "zh" : null });
    const { annotations, unplaced } = collectAnnotations(text, analysis);
    for (const seg of buildSegments(text, annotations)) {
      if (seg.covering.length === 0) {
        box.appendChild(document.createTextNode(seg.text));
      } else {
        const anns = seg.covering.map((i) => annotations[i]);
        const classes = ["hl"];
        const risks = anns.filter((a) => a.kind === "risk");
        if (risks.length) {
          const top = risks.reduce((a, b) => ((POLARITY_RANK[b.polarity] || 0) > (POLARITY_RANK[a.polarity] || 0) ? b : a));
          classes.push(`risk-${top.polarity}`);
        }
        if (anns.some((a) => a.kind === "protected")) classes.push("protected");
        if (anns.some((a) => a.kind === "field")) classes.push("field");
        const codes = risks.map((a) => a.code).join(" ");
        const cats = anns.filter((a) => a.kind === "protected").map((a) => a.category).join(" ");
        box.appendChild(el("mark", {
          class: classes.join(" "), title: anns.map((a) => a.label).join("; "),
          "data-codes": codes || null, "data-categories": cats || null,
        }, seg.text));
      }
      for (const i of seg.ending) {
        const tag = tagFor(annotations[i]);
        if (tag) box.appendChild(tag);
      }
    }
    const wrap = el("div", {}, box);
    if (unplaced.length) {
      wrap.appendChild(el("p", { class: "warning" },
        `${unplaced.length} finding(s) could not be located in this text: ` + unplaced.map((a) => a.label).join(", ")));
    }
    return wrap;
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** A problem+json body in words an officer can act on. */
  function plainError(status, p) {
    const detail = p && typeof p.detail === "string" ? p.detail : "";
    const errs = p && Array.isArray(p.errors)
      ? p.errors.map((e) => `${(e.loc || []).filter((x) => x !== "body").join(" ")}: ${e.msg}`).join("; ")
      : "";
    switch (status) {
      case 0: return "The creditflow API cannot be reached. Check the connection and try again.";
      case 401: return "You are not signed in or your token has expired. Sign in again with a fresh token."
        + (detail ? ` (${detail})` : "");
      case 403: return `Not allowed: ${detail || "your role may not do this."}`;
      case 404: return `Not found: ${detail || "this application or task does not exist."}`;
      case 409: return `Conflict: ${detail || "the task changed meanwhile. Refresh and try again."}`;
      case 413: return "Too large: the request is bigger than the server accepts.";
      case 415: return `Unsupported request: ${detail}`;
      case 422: return `Not accepted: ${[detail, errs].filter(Boolean).join(" ")}`.trim();
      case 503: return `The service is unavailable, nothing was changed: ${detail || "try again in a moment."}`;
      default:
        if (status >= 500) {
          return "The server had a problem and nothing was changed. Try again in a moment"
            + (p && p.error_id ? `; if it keeps failing, report error id ${p.error_id}.` : ".");
        }
        return `${(p && p.title) || "Error"} (${status})${detail ? ": " + detail : ""}`;
    }
  }

  async function request(method, path, body, token) {
    const headers = { Accept: "application/json, application/problem+json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(path, { method, headers, credentials: "same-origin",
                                 body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (_e) {
      throw new ApiError(0, plainError(0, null));
    }
    const raw = resp.status === 204 ? "" : await resp.text();
    let data = null;
    try { data = raw ? JSON.parse(raw) : null; } catch (_e) { data = null; }
    if (!resp.ok) throw new ApiError(resp.status, plainError(resp.status, data));
    return data;
  }

  async function api(method, path, body) {
    try {
      return await request(method, path, body, state.token);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        forgetSession();
        show("signin");
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------- session

  function forgetSession() {
    state.token = null;
    state.who = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(WHO_KEY);
    $("who").hidden = true;
  }

  function showWho() {
    const w = state.who;
    $("who-text").textContent = w ? `Signed in as ${w.sub} (${w.role})` : "";
    $("who").hidden = !w;
    const sel = $("queue-filter");
    const current = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    for (const q of (w && w.queues) || []) sel.appendChild(el("option", { value: q }, q));
    if (Array.from(sel.options).some((o) => o.value === current)) sel.value = current;
  }

  async function signIn(token) {
    const who = await request("POST", "/console/session", { token }, null);
    state.token = token;
    state.who = who;
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(WHO_KEY, JSON.stringify(who));
    showWho();
  }

  async function signOut() {
    try { await request("DELETE", "/console/session", undefined, null); } catch (_e) { /* cookie may linger until the tab closes */ }
    forgetSession();
    $("token").value = "";
    if (location.hash !== "#/inbox") location.hash = "#/inbox";
    show("signin");
    say("Signed out.");
    $("token").focus();
  }

  // ---------------------------------------------------------------- views

  function show(view) {
    for (const v of ["signin", "inbox", "task"]) $(`${v}-view`).hidden = v !== view;
    if (view !== "task" && state.pollTimer) {
      clearTimeout(state.pollTimer);
      state.pollTimer = null;
    }
  }

  async function loadInbox(focus) {
    show("inbox");
    if (focus) $("inbox-title").focus();
    const q = $("queue-filter").value;
    const path = "/v1/review/tasks" + (q ? `?queue=${encodeURIComponent(q)}` : "");
    let data;
    try {
      data = await api("GET", path);
    } catch (err) {
      complain(err.message);
      return;
    }
    const rows = clear($("inbox-rows"));
    const items = (data && data.items) || [];
    for (const t of items) {
      const overdue = isOverdue(t.sla_due_at);
      rows.appendChild(el("tr", { class: overdue ? "overdue" : null, "data-application": t.application_id },
        el("td", {}, t.queue || "—"),
        el("td", {}, el("a", { href: `#/task/${encodeURIComponent(t.id)}` }, t.application_id)),
        el("td", {}, t.product ? humanise(t.product) : "—"),
        el("td", { class: "num" }, fmtMoney(t.amount)),
        el("td", {}, t.grade || "—"),
        el("td", {}, timeEl(t.sla_due_at), overdue ? [" ", el("span", { class: "badge badge-overdue" }, "overdue")] : null),
        el("td", {}, t.assignee || "unassigned"),
      ));
    }
    $("inbox-empty").hidden = items.length > 0;
    $("inbox-table").hidden = items.length === 0;
    say(`${items.length} open task${items.length === 1 ? "" : "s"}.`);
  }

  function kv(dl, label, value) {
    dl.appendChild(el("dt", {}, label));
    dl.appendChild(el("dd", {}, value === null || value === undefined || value === "" ? "—" : value));
  }

  function renderApplication(app) {
    const dl = clear($("applicant-data"));
    kv(dl, "Application", app.id);
    kv(dl, "Product", humanise(app.product));
    kv(dl, "Requested amount", fmtMoney(app.requested_amount, app.currency));
    kv(dl, "Term", `${app.term_months} months`);
    kv(dl, "Purpose", app.purpose);
    const applicant = app.applicant || {};
    const moneyish = /(income|payments|balance|revenue|amount)$/;
    for (const [key, value] of Object.entries(applicant)) {
      let shown;
      if (value === null) shown = key === "checking_balance" ? "no checking account" : "none";
      else if (typeof value === "number" && moneyish.test(key)) shown = fmtMoney(value, app.currency);
      else if (typeof value === "object") shown = JSON.stringify(value);
      else shown = typeof value === "string" ? value : fmtNumber(value);
      kv(dl, humanise(key), shown);
    }
  }

  function reasonsList(reasons) {
    if (!reasons || !reasons.length) return el("p", { class: "muted" }, "No reasons given.");
    return el("ul", { class: "reasons" }, reasons.map((r) => el("li", {}, el("code", {}, r.code), " ", r.text)));
  }

  function renderRecommendation(rec, currency) {
    const box = clear($("recommendation"));
    if (!rec) {
      box.appendChild(el("p", { class: "muted" }, "No recommendation yet (the application is still being analysed)."));
      return;
    }
    const outcome = rec.outcome === "refer" ? `refer to ${rec.refer_queue || "officer"} queue` : rec.outcome;
    box.appendChild(el("p", { class: "outcome", id: "rec-outcome" }, `Recommended: ${outcome}`));
    const dl = el("dl", { class: "kv" });
    kv(dl, "Grade", rec.grade);
    kv(dl, "Score", fmtNumber(rec.score));
    kv(dl, "Probability of default", rec.pd === null || rec.pd === undefined ? null : `${(rec.pd * 100).toFixed(1)}%`);
    kv(dl, "Credit limit", rec.credit_limit === null ? null : fmtMoney(rec.credit_limit, currency));
    if (rec.counteroffer_amount) kv(dl, "Counteroffer", `${fmtMoney(rec.counteroffer_amount, currency)}`
      + (rec.counteroffer_term_months ? ` over ${rec.counteroffer_term_months} months` : ""));
    kv(dl, "Approvals required", String(rec.required_approvals || 1));
    if (rec.authority && rec.authority.role_max) {
      kv(dl, "Approval authority", Object.entries(rec.authority.role_max)
        .map(([role, max]) => `${role} up to ${fmtMoney(max, currency)}`).join(", "));
    }
    kv(dl, "Policy version", el("code", { title: rec.policy_version || "" }, shortHash(rec.policy_version)));
    kv(dl, "Model version", el("code", { title: rec.model_version || "" }, shortHash(rec.model_version)));
    box.appendChild(dl);
    box.appendChild(el("h3", {}, "Reasons"));
    box.appendChild(reasonsList(rec.reasons));
  }

  function renderFinal(decision, currency) {
    const card = $("final-card");
    const box = clear($("final-decision"));
    card.hidden = !decision;
    if (!decision) return;
    const by = Array.isArray(decision.decided_by) ? decision.decided_by.join(", ") : decision.decided_by;
    box.appendChild(el("p", { class: "outcome", id: "final-outcome" }, `${decision.outcome} (decided by ${by})`));
    const dl = el("dl", { class: "kv" });
    kv(dl, "Grade", decision.grade);
    kv(dl, "Credit limit", decision.credit_limit === null ? null : fmtMoney(decision.credit_limit, decision.currency || currency));
    if (decision.counteroffer_amount) kv(dl, "Offered amount", fmtMoney(decision.counteroffer_amount, currency));
    box.appendChild(dl);
    if (decision.plans && decision.plans.length) {
      box.appendChild(el("table", { class: "data" },
        el("caption", {}, "Installment plans"),
        el("thead", {}, el("tr", {}, ["Term", "APR", "Monthly payment", "Total cost"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, decision.plans.map((p) => el("tr", {},
          el("td", {}, `${p.term_months} months`), el("td", { class: "num" }, `${Number(p.apr).toFixed(2)}%`),
          el("td", { class: "num" }, fmtMoney(p.monthly_payment, currency)),
          el("td", { class: "num" }, fmtMoney(p.total_cost, currency))))),
      ));
    }
    if (decision.reasons && decision.reasons.length) {
      box.appendChild(el("h3", {}, "Reasons"));
      box.appendChild(reasonsList(decision.reasons));
    }
  }

  function officerEntry(a, currency) {
    const extra = [];
    if (a.amount) extra.push(`amount ${fmtMoney(a.amount, currency)}`);
    if (a.term_months) extra.push(`${a.term_months} months`);
    return el("li", { class: "officer-action" },
      el("strong", {}, a.action), ` by ${a.officer_id} (${a.role}) at `, timeEl(a.at),
      extra.length ? ` — ${extra.join(", ")}` : null,
      el("blockquote", { class: "comment" }, a.comment));
  }

  function renderReview(st, currency) {
    const box = clear($("review-state"));
    const review = st.review;
    if (!review) {
      box.appendChild(el("p", { class: "muted" }, "No review task."));
      return;
    }
    const dl = el("dl", { class: "kv" });
    kv(dl, "Queue", review.queue);
    kv(dl, "Assignee", review.assignee || "unassigned");
    const overdue = review.overdue || (st.stage === "in_review" && isOverdue(review.sla_due_at));
    kv(dl, "SLA due", el("span", {}, timeEl(review.sla_due_at),
      overdue ? [" ", el("span", { class: "badge badge-overdue" }, "overdue")] : null));
    if (review.escalations) kv(dl, "Escalations", String(review.escalations));
    kv(dl, "Approvals", `${(review.approvals || []).length} of ${review.required_approvals} required`);
    box.appendChild(dl);
    box.appendChild(el("h3", {}, "Approvals so far"));
    if ((review.approvals || []).length) {
      box.appendChild(el("ol", { class: "approvals", id: "approvals" }, review.approvals.map((a) => officerEntry(a, currency))));
    } else {
      box.appendChild(el("p", { class: "muted", id: "approvals" }, "None yet."));
    }
    const others = (review.actions || []).filter((a) => a.action !== "approve");
    if (others.length) {
      box.appendChild(el("h3", {}, "Other actions"));
      box.appendChild(el("ol", { class: "approvals" }, others.map((a) => officerEntry(a, currency))));
    }
  }

  function signalsTable(signals, caption) {
    if (!signals || !signals.length) return el("p", { class: "muted" }, "No risk signals.");
    return el("table", { class: "data signals" },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ["Code", "Polarity", "About", "Severity", "Counts against applicant", "Evidence"]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, signals.map((s) => el("tr", {},
        el("td", {}, el("code", {}, s.code)), el("td", {}, s.polarity),
        el("td", {}, s.subject === "third_party" ? "third party" : s.subject), el("td", {}, s.severity),
        el("td", {}, s.polarity === "affirmed" && s.subject === "applicant" ? "yes" : "no"),
        el("td", {}, `“${(s.evidence && s.evidence.text) || ""}”`)))));
  }

  function protectedList(text, analysis) {
    const pas = (analysis && analysis.protected_attributes) || [];
    if (!pas.length) return null;
    const map = codePointMap(text || "");
    return el("p", { class: "protected-note" },
      el("span", { class: "tag tag-protected" }, "do not consider"), " This text mentions protected attributes: ",
      pas.map((pa, i) => {
        const span = text ? placeSpan(text, map, pa.start, pa.end) : null;
        const words = span ? ` (“${text.slice(span.start, span.end)}”)` : "";
        return `${i ? ", " : ""}${pa.category}${words}`;
      }).join(""),
      ". They are excluded from every decision; do not weigh them.");
  }

  function fieldsTable(text, analysis) {
    const fields = Object.entries((analysis && analysis.fields) || {});
    if (!fields.length) return el("p", { class: "muted" }, "No fields extracted.");
    const map = codePointMap(text || "");
    return el("table", { class: "data fields" },
      el("caption", {}, "Extracted fields"),
      el("thead", {}, el("tr", {}, ["Field", "Value", "Confidence", "Read from"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, fields.map(([name, f]) => {
        const span = text && f.end > f.start ? placeSpan(text, map, f.start, f.end) : null;
        return el("tr", { "data-field": name },
          el("th", { scope: "row" }, humanise(name)),
          el("td", {}, typeof f.value === "number" ? fmtNumber(f.value) : String(f.value)),
          el("td", { class: "num" }, `${Math.round((f.confidence || 0) * 100)}%`),
          el("td", {}, span ? `“${text.slice(span.start, span.end)}”` : "derived"));
      })));
  }

  function renderDocuments(docs) {
    const box = clear($("documents"));
    if (!docs || !docs.length) {
      box.appendChild(el("p", { class: "muted" }, "No documents."));
      return;
    }
    docs.forEach((d, i) => {
      const a = d.analysis;
      const type = (a && a.doc_type) || d.doc_type || "unclassified";
      const conf = a && a.doc_type_confidence ? ` (confidence ${Math.round(a.doc_type_confidence * 100)}%)` : "";
      const section = el("section", { class: "doc", "aria-labelledby": `doc-${i}-title`, "data-doc-type": type },
        el("h4", { id: `doc-${i}-title` }, `Document ${i + 1}: ${humanise(type)}`),
        el("p", { class: "muted" }, `${d.media_type || ""} · ${d.status || ""}${conf} · id ${d.document_id}`));
      if (!a) section.appendChild(el("p", { class: "muted" }, "Not analysed yet."));
      else section.appendChild(fieldsTable(d.text, a));
      if (typeof d.text === "string") {
        append(section, [protectedList(d.text, a)]);
        section.appendChild(el("h5", {}, "Text with findings"));
        section.appendChild(renderHighlighted(d.text, a));
      } else {
        section.appendChild(el("p", { class: "muted" }, "The document text is not available."));
      }
      if (a) section.appendChild(signalsTable(a.risk_signals, "Risk signals in this document"));
      box.appendChild(section);
    });
  }

  function renderNotes(notes) {
    const box = clear($("notes"));
    if (!notes || !notes.length) {
      box.appendChild(el("p", { class: "muted" }, "No notes."));
      return;
    }
    notes.forEach((n, i) => {
      const section = el("section", { class: "doc note", "aria-labelledby": `note-${i}-title` },
        el("h4", { id: `note-${i}-title` }, `Note ${i + 1}`));
      append(section, [protectedList(n.text || "", n.analysis)]);
      section.appendChild(renderHighlighted(n.text || "", n.analysis));
      if (n.analysis) section.appendChild(signalsTable(n.analysis.risk_signals, "Risk signals in this note"));
      else section.appendChild(el("p", { class: "muted" }, "Not analysed yet."));
      box.appendChild(section);
    });
  }

  function barSvg(points, maxAbs, hasNegative) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 100 10");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const zero = hasNegative ? 50 : 0;
    const scale = (hasNegative ? 50 : 100) / (maxAbs || 1);
    const w = Math.abs(points) * scale;
    const rect = document.createElementNS(SVG_NS, "rect");
    rect.setAttribute("x", String(points < 0 ? zero - w : zero));
    rect.setAttribute("y", "1");
    rect.setAttribute("width", String(Math.max(w, 0.5)));
    rect.setAttribute("height", "8");
    rect.setAttribute("class", points < 0 ? "bar-neg" : "bar-pos");
    svg.appendChild(rect);
    if (hasNegative) {
      const axis = document.createElementNS(SVG_NS, "line");
      axis.setAttribute("x1", "50"); axis.setAttribute("x2", "50");
      axis.setAttribute("y1", "0"); axis.setAttribute("y2", "10");
      axis.setAttribute("class", "bar-axis");
      svg.appendChild(axis);
    }
    return svg;
  }

  function renderScore(rec) {
    const box = clear($("score-breakdown"));
    const items = (rec && rec.score_breakdown) || [];
    if (!items.length) {
      box.appendChild(el("p", { class: "muted" }, "No score breakdown."));
      return;
    }
    const sorted = items.slice().sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
    const maxAbs = Math.max(...sorted.map((i) => Math.abs(Number(i.points) || 0)));
    const hasNegative = sorted.some((i) => Number(i.points) < 0);
    box.appendChild(el("table", { class: "data score" },
      el("caption", {}, `Points per feature, largest first. Total score ${fmtNumber(rec.score)}.`),
      el("thead", {}, el("tr", {}, ["Feature", "Value", "Bin", "Points", "Share"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, sorted.map((i) => el("tr", {},
        el("th", { scope: "row" }, humanise(i.feature)),
        el("td", {}, i.value === null || i.value === undefined ? "—" : (typeof i.value === "object" ? JSON.stringify(i.value) : fmtNumber(i.value))),
        el("td", {}, String(i.bin)),
        el("td", { class: "num" }, fmtNumber(i.points)),
        el("td", { class: "bar" }, barSvg(Number(i.points) || 0, maxAbs, hasNegative)))))));
  }

  function renderRules(rec) {
    const box = clear($("rules-fired"));
    const rules = (rec && rec.rules_fired) || [];
    if (!rules.length) {
      box.appendChild(el("p", { class: "muted" }, "No policy rules fired."));
      return;
    }
    box.appendChild(el("table", { class: "data rules" },
      el("thead", {}, el("tr", {}, ["Rule", "Effect", "Reason code", "Severity"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rules.map((r) => el("tr", {},
        el("td", {}, el("code", {}, r.rule_id)), el("td", {}, r.effect),
        el("td", {}, el("code", {}, r.reason_code)), el("td", {}, r.severity || "—"))))));
  }

  function renderActions(st) {
    const open = st.stage === "in_review" && st.review;
    $("actions-card").hidden = !open;
    if (!open) return;
    const me = state.who && state.who.sub;
    const mine = st.review.assignee === me;
    $("claim").disabled = mine;
    $("release").disabled = !st.review.assignee || (!mine && !(state.who && state.who.role === "admin"));
  }

  function renderTask(data) {
    state.task = data;
    const app = data.application || {};
    const st = data.status || {};
    $("task-title").textContent = `Application ${app.id}`;
    $("task-stage").textContent = st.stage || "unknown";
    $("task-status").textContent = st.status && st.status !== st.stage ? `(${st.status})` : "";
    const link = $("temporal-link");
    if (typeof data.temporal_ui === "string" && /^https?:\/\//i.test(data.temporal_ui)) {
      link.href = data.temporal_ui;
      link.hidden = false;
    } else {
      link.hidden = true;
    }
    renderRecommendation(st.recommendation, app.currency);
    renderFinal(st.decision, app.currency);
    renderReview(st, app.currency);
    renderActions(st);
    renderApplication(app);
    renderDocuments(data.documents);
    renderNotes(data.notes);
    renderScore(st.recommendation);
    renderRules(st.recommendation);
    const all = clear($("all-signals"));
    all.appendChild(signalsTable(st.risk_signals, "Risk signals from all documents and notes"));
  }

  async function loadTask(id, focus) {
    show("task");
    $("task-title").textContent = `Application ${id}`;
    if (focus) $("task-title").focus();
    if (state.taskId !== id) {
      resetDecisionForm();
      state.taskId = id;
    }
    let data;
    try {
      data = await api("GET", `/v1/review/tasks/${encodeURIComponent(id)}`);
    } catch (err) {
      complain(err.message);
      return null;
    }
    renderTask(data);
    return data;
  }

  /** After a final action the workflow needs a moment to finish: re-read until the stage moves on. */
  function pollUntilSettled(id, attemptsLeft) {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(async () => {
      state.pollTimer = null;
      if (state.taskId !== id || $("task-view").hidden) return;
      const data = await loadTask(id, false);
      const stage = data && data.status && data.status.stage;
      if (stage === "in_review" || stage === "scoring" || stage === "policy" || stage === "analyzing") {
        if (attemptsLeft > 1) pollUntilSettled(id, attemptsLeft - 1);
      } else if (stage) {
        say(`The application is now ${stage}.`);
      }
    }, 700);
  }

  // ---------------------------------------------------------------- actions

  function selectedAction() {
    const checked = document.querySelector('input[name="action"]:checked');
    return checked ? checked.value : "approve";
  }

  const ACTION_LABEL = { approve: "Approve", decline: "Decline", counteroffer: "Send counteroffer", request_info: "Request info" };

  function syncActionFields() {
    const action = selectedAction();
    $("counteroffer-fields").hidden = action !== "counteroffer";
    $("request-info-fields").hidden = action !== "request_info";
    $("decline-fields").hidden = action !== "decline";
    $("decision-submit").textContent = ACTION_LABEL[action];
  }

  function fieldError(input, text) {
    const msg = $("comment-error");
    if (text) {
      input.setAttribute("aria-invalid", "true");
      msg.textContent = text;
      msg.hidden = false;
      complain(text);
      input.focus();
    } else {
      for (const id of ["comment", "co-amount"]) $(id).removeAttribute("aria-invalid");
      msg.textContent = "";
      msg.hidden = true;
    }
  }

  function resetDecisionForm() {
    $("decision-form").reset();
    fieldError(null, null);
    syncActionFields();
  }

  async function claimOrRelease(what) {
    const id = state.taskId;
    try {
      await api("POST", `/v1/review/tasks/${encodeURIComponent(id)}/${what}`, {});
      say(what === "claim" ? "You claimed this task. It is yours until you decide or release it."
                           : "You released this task; it is back in the queue.");
    } catch (err) {
      complain(err.message);
    }
    await loadTask(id, false);
  }

  async function submitDecision(ev) {
    ev.preventDefault();
    fieldError(null, null);
    const action = selectedAction();
    const comment = $("comment").value.trim();
    const verb = ACTION_LABEL[action].toLowerCase();
    if (!comment) {
      fieldError($("comment"), `Write a comment before you ${verb}: every review action needs one.`);
      return;
    }
    const body = { action, comment };
    if (action === "counteroffer") {
      const amount = Number($("co-amount").value);
      if (!$("co-amount").value || !Number.isFinite(amount) || amount <= 0) {
        fieldError($("co-amount"), "Enter the amount you offer (a number above zero).");
        return;
      }
      body.amount = amount;
      if ($("co-term").value) body.term_months = Number($("co-term").value);
    }
    if (action === "decline" || action === "approve") {
      const codes = $("dc-reasons").value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
      if (codes.length) body.reason_codes = codes.slice(0, 4);
    }
    if (action === "request_info") {
      body.requested_items = $("ri-items").value.split("\n").map((s) => s.trim()).filter(Boolean);
    }
    const id = state.taskId;
    const button = $("decision-submit");
    button.disabled = true;
    try {
      const review = await api("POST", `/v1/review/tasks/${encodeURIComponent(id)}/decision`, body);
      const approvals = (review && review.approvals) || [];
      if (action === "approve" && review && approvals.length < review.required_approvals) {
        say(`Your approval is recorded (${approvals.length} of ${review.required_approvals}). `
          + "A different officer must now claim the task and check it.");
        await loadTask(id, false);
      } else {
        say(`Your decision (${action}) is recorded. Waiting for the workflow to finish…`);
        await loadTask(id, false);
        pollUntilSettled(id, 30);
      }
      resetDecisionForm();
    } catch (err) {
      complain(err.message);
    } finally {
      button.disabled = false;
    }
  }

  // ---------------------------------------------------------------- routing and start-up

  async function route(focus) {
    hush();
    if (!state.token) {
      show("signin");
      return;
    }
    const m = /^#\/task\/([^/]+)$/.exec(location.hash);
    if (m) await loadTask(decodeURIComponent(m[1]), focus);
    else await loadInbox(focus);
  }

  async function onSignIn(ev) {
    ev.preventDefault();
    const input = $("token");
    const token = input.value.trim();
    if (!token) {
      input.setAttribute("aria-invalid", "true");
      complain("Paste your officer token first.");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    try {
      await signIn(token);
    } catch (err) {
      input.setAttribute("aria-invalid", "true");
      complain(err.status === 401 ? "This token is not valid or has expired. Ask for a new one."
                                  : err.message);
      input.focus();
      return;
    }
    input.value = "";
    await route(true);
    // Prepend the greeting without clearing an error the first view may have reported.
    if (state.who) {
      $("messages").textContent = `Signed in as ${state.who.sub} (${state.who.role}). ` + $("messages").textContent;
    }
  }

  async function start() {
    $("signin-form").addEventListener("submit", onSignIn);
    $("signout").addEventListener("click", signOut);
    $("inbox-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadInbox(false); });
    $("queue-filter").addEventListener("change", () => loadInbox(false));
    $("task-refresh").addEventListener("click", () => state.taskId && loadTask(state.taskId, false));
    $("claim").addEventListener("click", () => claimOrRelease("claim"));
    $("release").addEventListener("click", () => claimOrRelease("release"));
    $("decision-form").addEventListener("submit", submitDecision);
    document.querySelectorAll('input[name="action"]').forEach((r) => r.addEventListener("change", syncActionFields));
    window.addEventListener("hashchange", () => route(true));
    syncActionFields();

    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      try {
        await signIn(saved); // re-verifies and refreshes the codec cookie
      } catch (_e) {
        forgetSession();
      }
    }
    await route(false);
    if (!state.token) $("token").focus();
  }

  // Pure helpers, exposed for the browser tests of offset conversion and overlap handling.
  window.creditflowConsole = Object.freeze({ codePointMap, placeSpan, collectAnnotations, buildSegments, renderHighlighted });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
