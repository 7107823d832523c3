// The supervisor console: the wallboard, pacing, alerts, supervision and recordings.
const built = new Set();

function card(label, id, extra) {
  return el("div", { class: "card" }, el("div", { class: "muted" }, t(label)), el("div", { class: "value", id }, "–"), extra || null);
}

// Agents' names, from the wallboard message (ids are the dialer's).
let agentNames = {};
// Each campaign's abandon cap, drawn on its chart.
const caps = {};
function agentName(id) {
  if (id >= 1000000000) return `${t("simulated_agent")} ${id - 1000000000 + 1}`;
  return agentNames[id] || `#${id}`;
}

function number(id, value) { document.getElementById(id).value = value; }

function buildCampaign(c) {
  const id = c.live.campaign;
  const modes = ["preview", "progressive", "power", "predictive"];
  const field = (label, input) => el("label", {}, t(label), " ", input);
  const box = el("section", { id: `campaign-${id}` },
    el("h2", {}, el("span", { translate: "no" }, c.name), " ", el("span", { class: "muted", id: `running-${id}` })),
    el("div", { class: "line-down", id: `line-${id}`, role: "alert", hidden: true }),
    el("div", { class: "cards" },
      card("agents", `agents-${id}`),
      card("ringing", `ringing-${id}`), card("waiting", `waiting-${id}`), card("connected", `connected-${id}`),
      card("answer_rate", `answer-rate-${id}`),
      card("abandon", `abandon-${id}`, el("div", { class: "bar", id: `abandon-bar-${id}` }, el("div", {}))),
      card("occupancy", `occupancy-${id}`), card("dial_level", `dial-level-${id}`),
      card("handle_time", `handle-${id}`), card("dials", `dials-${id}`),
      card("pacing", `pacing-now-${id}`)),
    el("p", { class: "restraint", id: `restraint-${id}` }),
    el("h3", {}, t("pacing")),
    el("div", { class: "row pacing-form" },
      field("mode", el("select", { id: `mode-${id}` }, modes.map((m) => el("option", { value: m }, t("mode_" + m))))),
      field("lines_per_agent", el("input", { id: `lines-${id}`, type: "number", step: "0.1", min: "1", max: "10", class: "narrow" })),
      field("power_ratio", el("input", { id: `power-${id}`, type: "number", step: "0.1", min: "1", max: "10", class: "narrow" })),
      field("abandon_target", el("input", { id: `target-${id}`, type: "number", step: "0.1", min: "0.1", max: "10", class: "narrow" }), " %"),
      field("abandon_cap_pct", el("input", { id: `cap-${id}`, type: "number", step: "0.1", min: "0.1", max: "10", class: "narrow" }), " %"),
      el("button", { id: `apply-${id}`, type: "button", onclick: (e) => once(e.target, () => applyPacing(id)) }, t("apply")),
      el("button", { id: `start-${id}`, type: "button", class: "secondary", onclick: (e) => once(e.target, () => setState(id, "start")) }, t("start")),
      el("button", { id: `pause-${id}`, type: "button", class: "secondary", onclick: (e) => once(e.target, () => setState(id, "pause")) }, t("pause"))),
    el("h3", {}, t("agents")),
    el("table", { id: `agents-table-${id}`, class: "agents" }),
    el("h3", {}, t("chart")),
    el("canvas", { id: `chart-${id}`, width: 900, height: 160 }));
  document.getElementById("campaigns").append(box);
  showPacing(id, c.live.pacing);
  built.add(id);
  drawChart(id);
}

// The knobs as the supervisor reads them: shares in per cent.
function showPacing(id, p) {
  document.getElementById(`mode-${id}`).value = p.mode;
  number(`lines-${id}`, p.max_lines_per_agent);
  number(`power-${id}`, p.power_ratio);
  number(`target-${id}`, +(100 * p.abandon_target).toFixed(2));
  number(`cap-${id}`, +(100 * p.abandon_cap).toFixed(2));
}

function secs(s) { return age(s || 0); }

function render(c) {
  const v = c.live, id = v.campaign;
  caps[id] = v.abandon.cap;
  if (!built.has(id)) buildCampaign(c);
  const byState = {};
  for (const a of v.agents) if (a.state !== "logged out") byState[a.state] = (byState[a.state] || 0) + 1;
  const set = (key, text) => { document.getElementById(`${key}-${id}`).textContent = text; };
  set("running", v.running ? `● ${t("running")}` : `❚❚ ${t("paused_campaign")}`);
  const line = document.getElementById(`line-${id}`);
  line.hidden = v.line.up;
  line.textContent = v.line.up ? "" : `${t("line_down")}: ${t("line_" + v.line.code)}${v.line.module ? " " + v.line.module : ""}`;
  set("agents", Object.entries(byState).map(([s, n]) => `${n} ${t("state_" + s.replace(/ /g, "_"))}`).join(", ") || "0");
  set("ringing", v.calls.dialing + v.calls.ringing);
  set("waiting", v.calls.waiting);
  set("connected", v.calls.connected);
  set("answer-rate", pct(v.totals.answer_rate));
  set("abandon", `${pct(v.abandon.rate)} / ${t("cap")} ${pct(v.abandon.cap)}`);
  const bar = document.getElementById(`abandon-bar-${id}`);
  bar.className = v.abandon.rate > v.abandon.cap ? "bar over" : "bar";
  bar.firstChild.style.width = Math.min(100, 100 * v.abandon.rate / v.abandon.cap) + "%";
  set("occupancy", pct(v.occupancy));
  set("dial-level", v.dial_level.toFixed(2));
  set("handle", v.totals.mean_handle_secs.toFixed(0) + " s");
  set("dials", v.totals.dials);
  set("pacing-now", `${t("mode_" + v.pacing.mode.replace("-", "_"))} · ${v.pacing.max_lines_per_agent} ${t("lines_per_agent").toLowerCase()}`);
  set("restraint", `${t("holding_back")}: ${t("restraint_" + v.restraint)}`);
  const head = el("tr", {}, ["agent", "state", "in_state", "calls", "talk", "wrap", "paused_time", ""].map((k) => el("th", {}, k ? t(k) : "")));
  document.getElementById(`agents-table-${id}`).replaceChildren(head,
    ...v.agents.filter((a) => a.state !== "logged out").map((a) => {
      const real = a.id < 1000000000;
      return el("tr", { class: "agent-row", "data-agent": a.id },
        el("td", { class: "agent-name", translate: real ? "no" : null }, agentName(a.id)),
        el("td", {}, el("span", { class: "state " + a.state.replace(/ /g, "-") }, t("state_" + a.state.replace(/ /g, "_"))),
          a.after_call ? el("span", { class: "muted after-call" }, " · ", t("after_call_" + a.after_call.replace(/ /g, "_"))) : null),
        el("td", { class: "muted" }, age(a.for_secs)),
        el("td", {}, a.calls), el("td", {}, secs(a.talk_secs)), el("td", {}, secs(a.wrap_secs)), el("td", {}, secs(a.paused_secs)),
        el("td", { class: "spy row" }, real ? [
          ...["listen", "whisper", "barge"].map((mode) =>
            el("button", { type: "button", class: "secondary", "data-mode": mode, "data-agent": a.id, onclick: (e) => supervise(a.id, mode, e.target) }, t(mode))),
          a.state === "paused" || a.after_call ? null : el("button", { type: "button", class: "secondary force-pause", onclick: (e) => once(e.target, () => seat(a.id, "pause")) }, t("force_pause")),
          el("button", { type: "button", class: "danger force-logout", onclick: (e) => once(e.target, () => seat(a.id, "logout")) }, t("force_logout")),
        ] : null));
    }));
}

// A supervisor pauses or logs out an agent; on a call, once it is over.
async function seat(agent, action) {
  if (action === "logout" && !confirm(t("force_logout_confirm").replace("{name}", agentName(agent)))) return;
  const s = await api("POST", `/api/agents/${agent}/${action}`);
  flash(s.after_call ? t("after_call_noted").replace("{name}", agentName(agent)) : `${agentName(agent)}: ${t("state_" + s.state.replace(/ /g, "_"))}`);
}

async function supervise(agent, mode, button) {
  button.disabled = true;
  try { await api("POST", "/api/supervision", { agent, mode }); refreshSessions(); }
  catch (err) { flash(said(err), true); }
  finally { button.disabled = false; }
}

async function refreshSessions() {
  let sessions;
  try { sessions = await api("GET", "/api/supervision"); } catch (e) { return; }
  document.getElementById("sessions").replaceChildren(sessions.length
    ? el("table", {}, sessions.map((s) => el("tr", { class: "session" },
        el("td", { translate: "no" }, agentName(s.agent)), el("td", {}, t(s.mode)), el("td", { class: "muted" }, t("session_" + s.state)),
        el("td", {}, el("button", { type: "button", onclick: () => stopSession(s.id) }, t("stop_listening"))))))
    : el("p", { class: "muted" }, t("none")));
}

async function stopSession(id) {
  try { await api("POST", `/api/supervision/${id}/stop`); } catch (err) { flash(said(err), true); }
  refreshSessions();
}

async function refreshRecordings() {
  let recordings;
  try { recordings = await api("GET", "/api/recordings"); } catch (e) { return; }
  const when = (ms) => ms ? new Date(ms).toLocaleTimeString(lang === "hi" ? "hi-IN" : "en-IN") : "";
  document.getElementById("recordings").replaceChildren(recordings.length
    ? el("table", {}, recordings.map((r) => el("tr", { class: "recording" },
        el("td", {}, when(r.connect_at)), el("td", { translate: "no" }, r.agent_name || ""),
        el("td", { class: "muted" }, r.end_at && r.connect_at ? `${Math.round((r.end_at - r.connect_at) / 1000)} s` : ""),
        el("td", {}, el("button", { type: "button", class: "secondary", onclick: () => play(r.audio) }, t("play"))))))
    : el("p", { class: "muted" }, t("no_recordings")));
}

function play(path) {
  const player = document.getElementById("player");
  player.hidden = false;
  player.src = path;
  player.play().catch(() => {});
}

// The last hours: occupancy, answer rate (0–100 %) and the abandon rate
// (0–10 %, its own scale) against the clock, with the cap as a dashed line
// and a mark wherever the pacing was changed.
async function drawChart(id) {
  let points;
  try { points = await api("GET", `/api/campaigns/${id}/history`); } catch (e) { return; }
  const canvas = document.getElementById(`chart-${id}`);
  const g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, left = 40, right = 44, top = 18, bottom = 20;
  const w = W - left - right, h = H - top - bottom;
  g.clearRect(0, 0, W, H);
  g.font = "11px system-ui, sans-serif";
  g.strokeStyle = "#d5dde3"; g.fillStyle = "#5b6875";
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const y = top + h - f * h;
    g.beginPath(); g.moveTo(left, y); g.lineTo(left + w, y); g.stroke();
    g.fillText(`${f * 100}%`, 4, y + 4);
    g.fillText(`${(f * 10).toFixed(1)}%`, left + w + 4, y + 4);
  }
  if (points.length < 2) { g.fillText(t("chart_empty"), left + 8, top + h / 2); return; }
  const t0 = points[0].at, t1 = points[points.length - 1].at;
  const x = (at) => left + ((at - t0) / Math.max(1, t1 - t0)) * w;
  const clock = (at) => new Date(at).toLocaleTimeString(lang === "hi" ? "hi-IN" : "en-IN", { hour: "2-digit", minute: "2-digit" });
  for (const f of [0, 0.5, 1]) {
    const at = t0 + f * (t1 - t0);
    g.fillText(clock(at), Math.min(left + w - 30, x(at) - 14), H - 4);
  }
  // Pacing changes.
  g.strokeStyle = "#9a6700"; g.fillStyle = "#9a6700";
  points.forEach((p, j) => {
    const q = points[j - 1];
    if (!q || (p.mode === q.mode && p.max_lines_per_agent === q.max_lines_per_agent && p.abandon_target === q.abandon_target)) return;
    g.setLineDash([2, 3]); g.beginPath(); g.moveTo(x(p.at), top); g.lineTo(x(p.at), top + h); g.stroke(); g.setLineDash([]);
    g.fillText(`${t("mode_" + p.mode)} ${p.max_lines_per_agent}`, x(p.at) + 3, top + 10);
  });
  const series = [["occupancy", "#0f5f5c", 1], ["answer_rate", "#1565c0", 1], ["abandon_rate", "#b3261e", 0.1]];
  series.forEach(([key, colour, max], i) => {
    g.strokeStyle = colour; g.lineWidth = 2; g.beginPath();
    points.forEach((p, j) => {
      const y = top + h - Math.min(1, p[key] / max) * h;
      j ? g.lineTo(x(p.at), y) : g.moveTo(x(p.at), y);
    });
    g.stroke(); g.lineWidth = 1;
    g.fillStyle = colour; g.fillText(`■ ${t("chart_" + key)}`, left + 4 + 150 * i, 12);
  });
  const cap = caps[id];
  if (cap) {
    const y = top + h - Math.min(1, cap / 0.1) * h;
    g.strokeStyle = "#b3261e"; g.setLineDash([6, 4]); g.beginPath(); g.moveTo(left, y); g.lineTo(left + w, y); g.stroke(); g.setLineDash([]);
  }
}

// The daily report: shown here, downloaded as CSV, or printed.
function setUpReport() {
  const day = document.getElementById("report-day");
  // Empty: each campaign's today in its own time zone (not this browser's).
  day.value = "";
  const load = (e) => once(e.target, showReport);
  document.getElementById("report-show").addEventListener("click", load);
  day.addEventListener("change", () => { document.getElementById("report-csv").href = csvHref(); });
  document.getElementById("report-csv").href = csvHref();
  document.getElementById("report-print").addEventListener("click", async (e) => {
    await once(e.target, showReport);
    document.body.classList.add("printing-report");
    window.print();
    document.body.classList.remove("printing-report");
  });
}

function dayQuery() {
  const day = document.getElementById("report-day").value;
  return day ? `&day=${encodeURIComponent(day)}` : "";
}

function csvHref() { return `/api/reports/daily?format=csv${dayQuery()}`; }

async function showReport() {
  const rows = await api("GET", `/api/reports/daily?format=json${dayQuery()}`);
  const day = document.getElementById("report-day").value || (rows[0] && rows[0].day) || t("today");
  const cols = ["dials", "answered", "connected", "completed", "abandoned", "busy", "no_answer", "failed_other"];
  document.getElementById("report-table").replaceChildren(
    el("tr", {}, el("th", {}, t("campaign")), el("th", {}, t("agent")), cols.map((c) => el("th", {}, t("report_" + c))), el("th", {}, t("talk")), el("th", {}, t("abandon_rate_report"))),
    ...rows.map((r) => el("tr", { class: r.agent === null ? "report-total" : "report-agent" },
      el("td", { translate: "no" }, r.campaign_name), el("td", { translate: r.agent === null ? null : "no" }, r.agent === null ? t("all_agents") : r.agent_name),
      cols.map((c) => el("td", {}, r[c])), el("td", {}, secs(r.talk_secs)), el("td", {}, pct(r.abandon_rate)))));
  document.getElementById("report-title").textContent = `${t("daily_report")} · ${day}`;
}

async function applyPacing(id) {
  const share = (key) => Number(document.getElementById(`${key}-${id}`).value) / 100;
  const p = await api("PUT", `/api/campaigns/${id}/pacing`, {
    mode: document.getElementById(`mode-${id}`).value,
    max_lines_per_agent: Number(document.getElementById(`lines-${id}`).value),
    power_ratio: Number(document.getElementById(`power-${id}`).value),
    abandon_target: share("target"),
    abandon_cap: share("cap"),
  });
  showPacing(id, p);
  flash(`${t("pacing")}: ${t("mode_" + p.mode)}, ${p.max_lines_per_agent} ${t("lines_per_agent").toLowerCase()}, ${t("abandon_target").toLowerCase()} ${pct(p.abandon_target)}, ${t("cap")} ${pct(p.abandon_cap)}`);
}

async function setState(id, action) {
  await api("POST", `/api/campaigns/${id}/${action}`);
}

async function refreshAlerts() {
  try {
    const alerts = await api("GET", "/api/alerts");
    document.getElementById("alerts").replaceChildren(alerts.length
      ? el("table", { id: "alerts-table" }, alerts.map((a) => el("tr", {},
          el("td", { class: a.kind === "triage_override" ? "urgent" : "" }, t("alert_" + a.kind)),
          el("td", { translate: "no" }, a.contact_name), el("td", {}, a.day), el("td", { class: "muted", translate: "no" }, a.detail))))
      : el("p", { class: "muted" }, t("none")));
  } catch (err) { flash(said(err), true); }
}

(async () => {
  const me = await startPage(["supervisor"]);
  if (!me) return;
  setUpReport();
  // Labels are drawn when a section is built: rebuilt in the new language.
  document.addEventListener("languagechange", () => {
    document.getElementById("campaigns").replaceChildren();
    built.clear();
    if (document.getElementById("report-table").childElementCount) showReport().catch(() => {});
    refreshSessions();
    refreshRecordings();
    refreshAlerts();
  });
  refreshAlerts();
  setInterval(refreshAlerts, 30000);
  refreshSessions();
  refreshRecordings();
  setInterval(refreshSessions, 3000);
  setInterval(refreshRecordings, 30000);
  setInterval(() => built.forEach(drawChart), 15000);
  live((m) => {
    if (m.type !== "wallboard") return;
    agentNames = m.agent_names || {};
    m.campaigns.forEach(render);
    const b = m.tickets.by_age;
    document.getElementById("tickets").replaceChildren(el("table", {},
      el("tr", {}, el("th", {}, t("tickets")), el("td", { id: "tickets-open" }, m.tickets.open), el("td", { class: "urgent" }, `${m.tickets.urgent} ${t("urgent")}`)),
      el("tr", {}, el("td", {}, `< 15 ${t("unit_min")}`), el("td", {}, b.under_15m)),
      el("tr", {}, el("td", {}, `15 ${t("unit_min")} – 1 ${t("unit_h")}`), el("td", {}, b["15m_to_1h"])),
      el("tr", {}, el("td", {}, `1 – 4 ${t("unit_h")}`), el("td", {}, b["1h_to_4h"])),
      el("tr", {}, el("td", {}, `> 4 ${t("unit_h")}`), el("td", { class: b.over_4h ? "urgent" : "" }, b.over_4h)),
      el("tr", {}, el("td", {}, t("overdue")), el("td", { id: "tickets-overdue", class: m.tickets.overdue ? "urgent" : "" }, m.tickets.overdue)),
      el("tr", {}, el("th", {}, t("at_desk")), el("td", { id: "desk-members" }, m.desk.members)),
      el("tr", {}, el("td", {}, t("on_transfer")), el("td", { id: "desk-transferring" }, m.desk.transferring))));
  });
})();
