/* creditflow portfolio page: reads GET /v1/portfolio/summary with the staff token of this tab
   (the console's sessionStorage key) and draws a bar chart, tables and the alert list.
   No inline code, no innerHTML with data: every value goes in through textContent, so the
   strict CSP (script-src 'self') holds and no string from a line can run as code. */
(function () {
  "use strict";
  const TOKEN_KEY = "creditflow.token";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const BUCKET_CLASS = { "current": "bar-current", "1-29": "bar-1-29", "30-59": "bar-30-59",
                         "60-89": "bar-60-89", "90+": "bar-90" };
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(TOKEN_KEY);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  const money = (n) => Number(n || 0).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);

  function say(msg) { $("messages").textContent = msg; }
  function complain(msg) { $("errors").textContent = msg; }

  function showSignin() {
    $("signin-view").hidden = false;
    $("summary-view").hidden = true;
    $("signout").hidden = true;
    $("token").focus();
  }

  async function load() {
    complain("");
    say("Loading the portfolio…");
    let resp;
    try {
      resp = await fetch("/v1/portfolio/summary", {
        headers: { Accept: "application/json", Authorization: `Bearer ${token}` } });
    } catch (_e) {
      say("");
      complain("The creditflow API cannot be reached. Check the connection and try again.");
      return;
    }
    let data = null;
    try { data = await resp.json(); } catch (_e) { data = null; }
    if (resp.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
      say("");
      complain("Your token is missing or has expired. Sign in again.");
      showSignin();
      return;
    }
    if (!resp.ok) {
      say("");
      const detail = data && data.detail ? `: ${data.detail}` : "";
      complain(resp.status === 403 ? `Not allowed${detail}` : `The portfolio could not be loaded (${resp.status})${detail}`);
      return;
    }
    render(data);
    say(`Portfolio loaded: ${data.lines} open line${data.lines === 1 ? "" : "s"}.`);
  }

  function render(d) {
    $("signin-view").hidden = true;
    $("summary-view").hidden = false;
    $("signout").hidden = false;
    const currency = (d.currencies || []).join(", ") || "";
    $("as-of").textContent = `As of ${d.as_of}` + (currency ? ` · amounts in ${currency}` : "")
      + (d.truncated ? " · only the first lines are included" : "")
      + (d.unreachable ? ` · ${d.unreachable} line(s) did not answer` : "");

    const totals = $("totals");
    totals.replaceChildren();
    for (const [label, value] of [["Open lines", d.lines], ["Credit limit", money(d.totals.credit_limit)],
                                  ["Principal outstanding", money(d.totals.principal_outstanding)],
                                  ["Delinquent", d.delinquent], ["Watch list", d.watch_list],
                                  ["Frozen", d.frozen], ["Open alerts", d.alerts.open]]) {
      const box = el("div");
      box.append(el("dt", label), el("dd", value));
      totals.append(box);
    }
    drawChart(d.buckets);

    const rows = $("bucket-rows");
    rows.replaceChildren();
    for (const b of d.buckets) {
      const tr = el("tr");
      const th = el("th", b.bucket);
      th.scope = "row";
      tr.append(th, el("td", b.count, "num"), el("td", money(b.credit_limit), "num"),
                el("td", money(b.principal_outstanding), "num"), el("td", money(b.balance_outstanding), "num"),
                el("td", money(b.amount_overdue), "num"));
      rows.append(tr);
    }
    renderRolls(d.roll_rates, d.buckets.map((b) => b.bucket));
    renderAlerts(d.alerts);
  }

  function drawChart(buckets) {
    const chart = $("bucket-chart");
    for (const node of Array.from(chart.childNodes)) if (node.nodeName !== "desc") chart.removeChild(node);
    const W = 640, H = 260, left = 40, bottom = 40, top = 24;
    const max = Math.max(1, ...buckets.map((b) => b.count));
    const slot = (W - left - 10) / buckets.length;
    const barW = Math.min(72, slot * 0.6);
    chart.append(svg("line", { x1: left, y1: H - bottom, x2: W - 10, y2: H - bottom, class: "axis" }));
    buckets.forEach((b, i) => {
      const h = ((H - bottom - top) * b.count) / max;
      const x = left + i * slot + (slot - barW) / 2;
      const y = H - bottom - h;
      const g = svg("g", { "data-bucket": b.bucket });
      const rect = svg("rect", { x, y, width: barW, height: Math.max(h, 0), class: BUCKET_CLASS[b.bucket] || "bar-current" });
      rect.append(svg("title", {}, `${b.bucket}: ${b.count} line(s), principal ${money(b.principal_outstanding)}`));
      g.append(rect,
               svg("text", { x: x + barW / 2, y: y - 6, "text-anchor": "middle", class: "bar-value" }, b.count),
               svg("text", { x: x + barW / 2, y: H - bottom + 18, "text-anchor": "middle", class: "bar-label" },
                   b.bucket === "current" ? "current" : `${b.bucket} DPD`));
      chart.append(g);
    });
  }

  function renderRolls(steps, buckets) {
    const head = $("roll-head"), body = $("roll-rows");
    head.replaceChildren();
    body.replaceChildren();
    $("roll-empty").hidden = steps.length > 0;
    $("roll-table").hidden = steps.length === 0;
    if (!steps.length) return;
    const tr = el("tr");
    tr.append(el("th", "From bucket"));
    for (const s of steps) {
      const th = el("th", `${s.from_month} → ${s.to_month}`, "num");
      th.scope = "col";
      tr.append(th);
    }
    tr.firstChild.scope = "col";
    head.append(tr);
    for (const b of buckets) {
      const row = el("tr");
      const th = el("th", b);
      th.scope = "row";
      row.append(th);
      for (const s of steps) row.append(el("td", pct(s.roll_forward[b]), "num"));
      body.append(row);
    }
  }

  function renderAlerts(alerts) {
    const body = $("alert-rows");
    body.replaceChildren();
    $("alerts-count").textContent = `${alerts.open} alert(s) raised in the last ${alerts.window_days} days`
      + ` (high ${alerts.by_severity.high}, medium ${alerts.by_severity.medium}, low ${alerts.by_severity.low}).`;
    $("alerts-empty").hidden = alerts.items.length > 0;
    $("alerts-table").hidden = alerts.items.length === 0;
    for (const a of alerts.items) {
      const tr = el("tr");
      const sev = el("td");
      sev.append(el("span", a.severity, `sev sev-${a.severity}`));
      const flags = [a.bucket, a.watch_list ? "watch list" : null, a.frozen ? "frozen" : null].filter(Boolean);
      tr.append(el("td", a.raised_on), sev, el("td", a.code), el("td", a.application_id),
                el("td", flags.join(", ")), el("td", a.message));
      body.append(tr);
    }
  }

  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = $("token").value.trim();
    if (!value) { complain("Paste your staff token first."); return; }
    token = value;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    load();
  });
  $("refresh").addEventListener("click", () => load());
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    say("Signed out.");
    showSignin();
  });

  if (token) load(); else showSignin();
})();
