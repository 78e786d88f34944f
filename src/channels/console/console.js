// Robot SRE console. Every value from the server is put in the page with textContent, never
// as HTML. Live: the server's event stream says when to re-read what is shown.
"use strict";

const state = { csrf: null, user: null, selected: null, detail: null, events: null, busy: false };

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function age(seconds) {
  const minutes = Math.floor(seconds / 60);
  if (minutes < 1) return seconds + "s";
  if (minutes < 60) return minutes + "m";
  return Math.floor(minutes / 60) + "h" + String(minutes % 60).padStart(2, "0") + "m";
}

function time(iso) {
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

async function api(path, options) {
  const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (init.body !== undefined) init.headers["content-type"] = "application/json";
  if (state.csrf && init.method && init.method !== "GET") init.headers["x-csrf-token"] = state.csrf;
  const response = await fetch(path, init);
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (response.status === 401 && path !== "/console/login") showLogin();
  return { ok: response.ok, status: response.status, body: body || {} };
}

function showLogin() {
  state.csrf = null;
  state.user = null;
  if (state.events) { state.events.close(); state.events = null; }
  $("app").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login").hidden = false;
}

function showApp(session) {
  state.csrf = session.csrf;
  state.user = session.user;
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = "Logged in as " + session.user;
  state.selected = decodeURIComponent(location.hash.slice(1)) || null;
  listen();
  refresh();
}

function listen() {
  if (state.events) return;
  const events = new EventSource("/console/api/events");
  events.addEventListener("change", refresh);
  events.addEventListener("tick", refresh);
  events.onopen = () => { $("live").textContent = "(live)"; };
  events.onerror = () => { $("live").textContent = "(reconnecting…)"; };
  state.events = events;
}

async function refresh() {
  if (state.busy || !state.csrf) return;
  state.busy = true;
  try {
    await loadList();
    if (state.selected) await loadDetail(state.selected);
  } finally {
    state.busy = false;
  }
}

async function loadList() {
  const answer = await api("/console/api/incidents");
  if (!answer.ok) return;
  const rows = answer.body.incidents || [];
  const body = $("incidents");
  body.replaceChildren();
  for (const row of rows) {
    const tr = el("tr", null, "incident-row severity-" + row.severity);
    tr.dataset.id = row.id;
    if (row.id === state.selected) tr.classList.add("selected");
    tr.append(el("td", row.severity, "severity"), el("td", row.state || "new", "state"),
      el("td", age(row.age_seconds), "age"), el("td", row.id, "id"), el("td", row.type),
      el("td", row.target));
    tr.addEventListener("click", () => select(row.id));
    body.append(tr);
  }
  $("no-incidents").hidden = rows.length > 0;
}

function select(id) {
  state.selected = id;
  location.hash = encodeURIComponent(id);
  $("decision-error").textContent = "";
  refresh();
}

async function loadDetail(id) {
  const answer = await api("/console/api/incidents/" + encodeURIComponent(id));
  if (!answer.ok) {
    $("detail").hidden = false;
    $("detail-title").textContent = id + ": " + (answer.body.error || "not available");
    return;
  }
  state.detail = answer.body;
  renderDetail(answer.body);
}

function renderDetail(d) {
  $("detail").hidden = false;
  const s = d.summary;
  $("detail-title").textContent = s.id + " · " + s.severity + " " + s.type + " · " + s.target;
  $("state").textContent = d.conversation ? d.conversation.state : "new";
  $("status").textContent = d.conversation ? d.conversation.status : "not triaged yet";
  renderPrompt(d.prompt);
  renderThread(d.thread);
  renderPackets(d.packets);
  renderAudit(d.audit);
}

function renderPrompt(prompt) {
  $("prompt").hidden = !prompt;
  if (!prompt) return;
  $("prompt-title").textContent = prompt.title;
  const fields = $("prompt-fields");
  fields.replaceChildren();
  for (const field of prompt.fields) {
    fields.append(el("dt", field.label), el("dd", field.value));
  }
  $("prompt-delivered").textContent = "Delivered to: " + (prompt.delivered_to.join(", ") || "nobody yet");
}

function renderThread(messages) {
  const list = $("thread");
  list.replaceChildren();
  for (const m of messages) {
    const item = el("li", null, "message " + m.kind);
    item.append(el("span", time(m.at), "muted"), el("span", " " + m.kind + ": ", "kind"), el("span", m.text));
    if (m.body) item.append(el("div", m.body, "body"));
    if (m.outcome) item.append(el("div", m.outcome, "outcome"));
    list.append(item);
  }
  if (messages.length === 0) list.append(el("li", "Nothing was posted to the console for this incident; see the audit timeline.", "muted"));
}

function renderPackets(packets) {
  const box = $("packets");
  box.replaceChildren();
  for (const p of packets) {
    const details = el("details", null, "packet");
    details.append(el("summary", p.request_id + " · " + p.status + " · " + p.summary), el("pre", p.readable));
    box.append(details);
  }
  if (packets.length === 0) box.append(el("p", "No action was taken yet.", "muted"));
}

function renderAudit(records) {
  const body = $("audit");
  body.replaceChildren();
  for (const r of records) {
    const actor = r.actor.type === "human" ? r.actor.id + " (" + r.actor.channel + ")" : r.actor.identity;
    const tr = el("tr", null, "audit-row");
    tr.append(el("td", time(r.at)), el("td", r.kind), el("td", actor), el("td", r.reason));
    body.append(tr);
  }
}

async function decide(approves) {
  const prompt = state.detail && state.detail.prompt;
  const choice = prompt && prompt.choices.find((c) => c.approves === approves);
  if (!choice) return;
  $("decision-error").textContent = "";
  const answer = await api("/console/api/decisions", {
    method: "POST",
    body: JSON.stringify({ token: choice.token, incident: state.detail.summary.id }),
  });
  if (!answer.ok) $("decision-error").textContent = answer.body.error || "not submitted";
  else refresh();
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const answer = await api("/console/login", {
    method: "POST",
    body: JSON.stringify({ user: $("login-user").value, password: $("login-password").value }),
  });
  $("login-password").value = "";
  if (answer.ok) showApp(answer.body);
  else $("login-error").textContent = answer.body.error || "login failed";
}

async function logout() {
  await api("/console/logout", { method: "POST" });
  showLogin();
}

async function start() {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("approve").addEventListener("click", () => decide(true));
  $("reject").addEventListener("click", () => decide(false));
  window.addEventListener("hashchange", () => {
    state.selected = decodeURIComponent(location.hash.slice(1)) || null;
    refresh();
  });
  const answer = await api("/console/api/session");
  if (answer.ok) showApp(answer.body);
  else showLogin();
}

document.addEventListener("DOMContentLoaded", start);
