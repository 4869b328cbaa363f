// The console's and desk's own script: every read and action is a /v1 call made with the
// session cookie (X-Dialer-Console marks it as the console's); no library, no build step.
"use strict";

const CONSOLE = { "X-Dialer-Console": "1" };
const REFRESH_MS = 2000;
const CHART_POINTS = 1800; // one hour of samples, one every 2 s

function $(sel, root) { return (root || document).querySelector(sel); }

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function row(cells) {
  const tr = el("tr");
  for (const c of cells) {
    const td = el("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? "-" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function showError(message) {
  const box = $("#error");
  if (!box) return;
  box.textContent = message || "";
  box.hidden = !message;
}

async function api(method, path, body) {
  const init = { method, headers: { ...CONSOLE }, credentials: "same-origin" };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch("/v1" + path, init);
  if (response.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const fields = (data && data.errors || []).map(e => `${e.field}: ${e.detail}`).join("; ");
    throw new Error(((data && data.detail) || response.statusText) + (fields ? ` (${fields})` : ""));
  }
  return data;
}

function every(ms, work) {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try { await work(); showError(""); } catch (e) { showError(e.message); } finally { busy = false; }
  };
  tick();
  return setInterval(tick, ms);
}

function pct(x) { return (100 * x).toFixed(1) + "%"; }

// ---- charts: an SVG polyline of the samples this page took, with an optional target line
function drawChart(svg, points, target) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const values = points.map(p => p[1]);
  const top = Math.max(1, target || 0, ...values) * 1.1;
  const xs = i => (points.length < 2 ? 0 : (300 * i) / (points.length - 1));
  const ys = v => 100 - (100 * v) / top;
  const ns = "http://www.w3.org/2000/svg";
  const line = document.createElementNS(ns, "polyline");
  Object.entries({
    points: points.map((p, i) => `${xs(i).toFixed(1)},${ys(p[1]).toFixed(1)}`).join(" "),
    fill: "none", stroke: "#1f6feb", "stroke-width": "1.5",
  }).forEach(([k, v]) => line.setAttribute(k, v));
  svg.appendChild(line);
  if (target) {
    const t = document.createElementNS(ns, "line");
    Object.entries({ x1: 0, x2: 300, y1: ys(target), y2: ys(target), stroke: "#d1242f", "stroke-dasharray": "4 3" })
      .forEach(([k, v]) => t.setAttribute(k, v));
    svg.appendChild(t);
  }
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "296"); label.setAttribute("y", "10"); label.setAttribute("font-size", "9");
  label.setAttribute("text-anchor", "end");
  label.textContent = values.length ? String(values[values.length - 1]) : "";
  svg.appendChild(label);
}

// ---- campaigns list and creation
async function campaignsPage() {
  const body = $("#campaigns tbody");
  every(REFRESH_MS * 2, async () => {
    const campaigns = await api("GET", "/campaigns?report=true");
    body.replaceChildren(...campaigns.map(c => {
      const r = c.report;
      const dialled = Object.values(r.calls_by_outcome).reduce((a, b) => a + b, 0);
      const link = el("a", c.name, { href: `/console/campaigns/${encodeURIComponent(c.name)}` });
      const actions = el("span");
      for (const action of ["start", "pause", "stop"]) {
        const b = el("button", action);
        b.onclick = () => transition(c.name, action, false).catch(e => showError(e.message));
        actions.appendChild(b);
      }
      return row([link, c.status, c.dial_mode, c.queue_name, dialled, r.answered, r.connected,
        r.abandoned, `${pct(r.abandon_rate)} / ${c.abandon_target_pct}%`,
        r.leads_by_status.pending || 0, actions]);
    }));
  });
  $("#create").addEventListener("submit", async ev => {
    ev.preventDefault();
    const spec = {};
    for (const [k, v] of new FormData(ev.target).entries()) {
      if (v === "") continue;
      if (["calling_window", "retry_rules", "caller_id_policy"].includes(k)) spec[k] = JSON.parse(v);
      else if (["max_attempts", "abandon_window_days", "abandon_run_limit"].includes(k)) spec[k] = parseInt(v, 10);
      else if (k === "abandon_target_pct") spec[k] = parseFloat(v);
      else spec[k] = v;
    }
    try {
      const created = await api("POST", "/campaigns", spec);
      window.location = `/console/campaigns/${encodeURIComponent(created.name)}`;
    } catch (e) { showError(e.message); }
  });
}

async function transition(name, action, force) {
  const path = `/campaigns/${encodeURIComponent(name)}/${action}`;
  return action === "start" ? api("POST", path, { force }) : api("POST", path);
}

// ---- one campaign, live
async function campaignPage() {
  const name = $("#campaign").dataset.name;
  const base = `/campaigns/${encodeURIComponent(name)}`;
  const series = { answer: [], abandon: [], level: [], busy: [] };
  let settings = null;
  const push = (s, v) => { s.push([Date.now(), v]); if (s.length > CHART_POINTS) s.shift(); };
  every(REFRESH_MS, async () => {
    const [c, r, live, trunks] = await Promise.all([api("GET", base), api("GET", base + "/report"),
      api("GET", base + "/live"), api("GET", "/trunks")]);
    $("#status").textContent = c.status;
    const reason = $("#paused-reason");
    reason.hidden = !c.pause_reason; reason.textContent = c.pause_reason ? `Paused by the dialer: ${c.pause_reason}` : "";
    const dialled = Object.values(r.calls_by_outcome).reduce((a, b) => a + b, 0);
    const budget = Math.max(0, Math.floor((r.answered * c.abandon_target_pct) / 100) - r.abandoned);
    const figures = [["Dialled", dialled], ["Ringing / in flight", r.calls_by_outcome["in flight"] || 0],
      ["Answered", r.answered], ["Connected", r.connected], ["Abandoned", r.abandoned],
      ["Abandon rate", `${pct(r.abandon_rate)} (target ${c.abandon_target_pct}% over ${r.window_days} d)`],
      ["Abandons left in budget", budget], ["Talk time", `${Math.round(r.talk_s)} s`]];
    $("#figures").replaceChildren(...figures.map(([k, v]) => {
      const d = el("div", null, { class: "figure" }); d.append(el("span", k), el("strong", v)); return d;
    }));
    const phases = live.agents_by_phase;
    const liveFigures = [["Ringing", live.ringing], ["Waiting for an agent", live.waiting], ["Talking", live.talking],
      ["Dial level", live.dial_level.toFixed(2)], ["Agents ready", phases.ready], ["Agents talking", phases.talking],
      ["Agents in wrap-up", phases.wrap_up], ["Agents away", phases.away]];
    $("#live").replaceChildren(...liveFigures.map(([k, v]) => {
      const d = el("div", null, { class: "figure" }); d.append(el("span", k), el("strong", v)); return d;
    }));
    $("#campaign-trunks tbody").replaceChildren(...trunks.map(t => row([t.name,
      t.health ? `${t.health.state}${t.health.why ? ": " + t.health.why : ""}` : "not seen",
      `${t.lines_in_use ?? "-"} / ${t.max_concurrency || "∞"}`, `${t.calls_last_second ?? "-"} / ${t.max_cps || "∞"}`])));
    $("#leads tbody").replaceChildren(...Object.entries(r.leads_by_status).map(([k, v]) => row([k, v])));
    $("#outcomes tbody").replaceChildren(...Object.entries(r.calls_by_outcome).map(([k, v]) => row([k, v])));
    const ended = dialled - (r.calls_by_outcome["in flight"] || 0);
    push(series.answer, ended ? +((100 * r.answered) / ended).toFixed(1) : 0);
    push(series.abandon, +(100 * r.abandon_rate).toFixed(2));
    push(series.level, +live.dial_level.toFixed(2));
    push(series.busy, phases.talking);
    drawChart($("#chart-answer"), series.answer);
    drawChart($("#chart-abandon"), series.abandon, c.abandon_target_pct);
    drawChart($("#chart-level"), series.level);
    drawChart($("#chart-busy"), series.busy);
    if (settings === null) {
      settings = {};
      for (const k of ["queue_name", "dial_mode", "default_region", "calling_window", "retry_rules", "abandon_target_pct",
        "abandon_window_days", "abandon_run_limit", "max_attempts", "retry_order", "trunk_group", "caller_id_policy", "webhook_url"]) settings[k] = c[k];
      $("#edit textarea").value = JSON.stringify(settings, null, 2);
    }
    await refreshLists(base);
  });
  for (const b of document.querySelectorAll("[data-action]")) {
    b.onclick = () => transition(name, b.dataset.action, $("#force").checked).catch(e => showError(e.message));
  }
  $("#edit").addEventListener("submit", async ev => {
    ev.preventDefault();
    try {
      const wanted = JSON.parse(ev.target.settings.value);
      const changes = {};
      for (const [k, v] of Object.entries(wanted)) if (JSON.stringify(v) !== JSON.stringify(settings[k])) changes[k] = v;
      await api("PATCH", base, changes);
      settings = wanted;
      showError("");
    } catch (e) { showError(e.message); }
  });
  $("#upload").addEventListener("submit", ev => { ev.preventDefault(); upload(base, ev.target); });
}

async function refreshLists(base) {
  const lists = await api("GET", base + "/lead-lists");
  $("#lists tbody").replaceChildren(...lists.map(l => row([l.id, l.file_name, l.failure ? `failed: ${l.failure}` : l.status,
    l.rows, l.accepted, l.duplicate, l.dnc, l.invalid, l.dialled,
    el("a", "rejects.csv", { href: `/v1${base}/lead-lists/${l.id}/rejects` })])));
  return lists;
}

function setProgress(value, state) {
  $("#upload-progress").value = value;
  $("#upload-pct").textContent = `${Math.round(value)}%`;
  if (state !== undefined) $("#upload-state").textContent = state;
}

// the upload's bytes are the first half of the bar, the import's rows the second
function upload(base, form) {
  const data = new FormData();
  for (const [k, v] of new FormData(form).entries()) if (v !== "") data.append(k, v);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/v1${base}/lead-lists`);
  xhr.setRequestHeader("X-Dialer-Console", "1");
  xhr.upload.onprogress = e => { if (e.lengthComputable) setProgress((50 * e.loaded) / e.total, "uploading"); };
  xhr.onload = () => {
    const body = JSON.parse(xhr.responseText || "null");
    if (xhr.status >= 400) { setProgress(0, ""); showError(body && body.detail || xhr.statusText); return; }
    watchImport(base, body.lead_list);
  };
  xhr.onerror = () => showError("the upload failed");
  setProgress(0, "uploading");
  xhr.send(data);
}

function watchImport(base, list) {
  const total = Math.max(1, list.rows || 0);
  const timer = setInterval(async () => {
    try {
      const l = await api("GET", `${base}/lead-lists/${list.id}`);
      if (l.status === "importing" && !l.failure) {
        setProgress(50 + Math.min(49, (49 * l.rows) / Math.max(total, l.rows + 1)), `importing: ${l.rows} rows`);
        return;
      }
      clearInterval(timer);
      if (l.failure) { setProgress(0, `failed: ${l.failure}`); return; }
      setProgress(100, `imported: ${l.accepted} accepted, ${l.duplicate} duplicate, ${l.dnc} DNC, ${l.invalid} invalid`);
      await refreshLists(base);
    } catch (e) { showError(e.message); }
  }, 500);
}

// ---- trunks, DNC, agents
async function trunksPage() {
  every(REFRESH_MS, async () => {
    const trunks = await api("GET", "/trunks");
    $("#trunks tbody").replaceChildren(...trunks.map(t => row([t.name,
      t.health ? `${t.health.state}${t.health.why ? ": " + t.health.why : ""}` : "not seen",
      `${t.lines_in_use ?? "-"} / ${t.max_concurrency || "∞"}`, `${t.calls_last_second ?? "-"} / ${t.max_cps || "∞"}`,
      `${t.proxy_host}:${t.proxy_port}, prefix ${t.callee_prefix || "-"}, ${t.rates} rates`])));
  });
}

async function dncPage() {
  const load = async () => {
    const page = await api("GET", "/dnc?limit=200");
    $("#dnc tbody").replaceChildren(...page.entries.map(e => {
      const b = el("button", "remove");
      b.onclick = () => api("DELETE", `/dnc/${e.id}`).then(load).catch(x => showError(x.message));
      return row([e.number, e.prefix ? "yes" : "", e.campaign_id ?? "every", e.source, e.reason, e.created_at, e.expires_at, b]);
    }));
  };
  every(REFRESH_MS * 5, load);
  $("#dnc-add").addEventListener("submit", async ev => {
    ev.preventDefault();
    const f = ev.target;
    const entry = { number: f.number.value, prefix: f.prefix.checked, reason: f.reason.value };
    if (f.campaign.value) entry.campaign = f.campaign.value;
    try { await api("POST", "/dnc", entry); f.reset(); await load(); } catch (e) { showError(e.message); }
  });
}

async function agentsPage() {
  const since = {};
  every(REFRESH_MS, async () => {
    const agents = await api("GET", "/agents");
    const count = {};
    $("#agents tbody").replaceChildren(...agents.map(a => {
      const node = a.nodes[0] || { status: "-", state: "-" };
      const key = `${node.status}|${node.state}`;
      // the listener's time of the change; else since this page saw it
      if (!since[a.name] || since[a.name].key !== key) since[a.name] = { key, at: Date.now() };
      const at = node.since ? Date.parse(node.since) : since[a.name].at;
      count[node.status] = (count[node.status] || 0) + 1;
      const secs = Math.max(0, Math.round((Date.now() - at) / 1000));
      return row([a.name, a.tiers.map(t => t.queue).join(", "), node.status, node.state, `${secs} s`,
        el("a", "desk", { href: `/desk/${encodeURIComponent(a.name)}` })]);
    }));
    $("#agent-summary").textContent = Object.entries(count).map(([k, v]) => `${k}: ${v}`).join(" · ");
  });
}

// ---- the agent's desk
function deskPage() {
  const agent = $("#desk").dataset.agent;
  const path = `/agents/${encodeURIComponent(agent)}`;
  let call = null;
  const refreshStatus = async () => {
    const a = await api("GET", path);
    const node = a.nodes[0] || { status: "-", state: "-" };
    $("#agent-status").textContent = node.status; $("#agent-state").textContent = node.state;
  };
  refreshStatus().catch(e => showError(e.message));
  for (const b of document.querySelectorAll("[data-status]")) {
    b.onclick = async () => {
      try { const s = await api("POST", path + "/status", { status: b.dataset.status }); $("#agent-status").textContent = s.status; showError(""); }
      catch (e) { showError(e.message); }
    };
  }
  const show = (lead, message) => {
    call = message.call_uuid;
    $("#waiting").hidden = true; $("#card").hidden = false;
    $("#call-state").textContent = "on the call";
    $("#disposition-result").textContent = "";
    $("#disposition").reset();
    $("#lead-call").textContent = message.call_uuid;
    $("#lead-name").textContent = lead ? lead.name : "";
    $("#lead-number").textContent = lead ? lead.number : "(not a dialer lead)";
    $("#lead-campaign").textContent = lead ? lead.campaign : "-";
    $("#lead-attempts").textContent = lead ? lead.attempts : "-";
    $("#lead-fields tbody").replaceChildren(...Object.entries(lead ? lead.custom_fields : {}).map(([k, v]) => row([k, v])));
    const earlier = lead ? lead.earlier : [];
    $("#lead-earlier tbody").replaceChildren(...(earlier.length ? earlier.map(e => row([`#${e.attempt_no}`, e.originated_at, e.outcome, e.disposition]))
      : [row(["none: this is the first call"])]));
  };
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/v1${path}/events`);
    socket.onopen = () => { $("#socket").textContent = "live"; };
    socket.onclose = e => {
      $("#socket").textContent = "offline";
      if (e.code === 1008) window.location = "/login?next=" + encodeURIComponent(location.pathname); // the session ended
      else setTimeout(connect, 1000);
    };
    socket.onmessage = m => {
      const message = JSON.parse(m.data);
      if (message.type === "call") show(message.lead, message);
      else if (message.type === "call_end" && message.call_uuid === call) $("#call-state").textContent = "call ended";
      else if (message.type === "status") $("#agent-status").textContent = message.value;
      else if (message.type === "state") $("#agent-state").textContent = message.value;
    };
  };
  connect();
  $("#disposition").addEventListener("submit", async ev => {
    ev.preventDefault();
    const f = ev.target;
    const body = { call_uuid: call, disposition: f.disposition.value, note: f.note.value };
    if (body.disposition === "callback" && f.callback_at.value) body.callback_at = f.callback_at.value;
    try {
      const done = await api("POST", path + "/dispositions", body);
      $("#disposition-result").textContent = `saved: lead ${done.lead_status}`;
      showError("");
    } catch (e) { showError(e.message); }
  });
}

const PAGES = { campaigns: () => ($("#campaign") ? campaignPage() : campaignsPage()), trunks: trunksPage, dnc: dncPage, agents: agentsPage, desk: deskPage };
const start = PAGES[document.body.dataset.page];
if (start) start();
