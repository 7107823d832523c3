// The supervisor console: the wallboard, pacing, alerts, supervision and recordings.
let role = null;
const built = new Set();

function card(label, id, extra) {
  return el("div", { class: "card" }, el("div", { class: "muted" }, t(label)), el("div", { class: "value", id }, "–"), extra || null);
}

function buildCampaign(c) {
  const id = c.live.campaign;
  const modes = ["preview", "progressive", "power", "predictive"];
  const box = el("section", { id: `campaign-${id}` },
    el("h2", {}, c.name, " ", el("span", { class: "muted", id: `running-${id}` })),
    el("div", { class: "line-down", id: `line-${id}`, role: "alert", hidden: true }),
    el("div", { class: "cards" },
      card("agents", `agents-${id}`),
      card("ringing", `ringing-${id}`), card("waiting", `waiting-${id}`), card("connected", `connected-${id}`),
      card("answer_rate", `answer-rate-${id}`),
      card("abandon", `abandon-${id}`, el("div", { class: "bar", id: `abandon-bar-${id}` }, el("div", {}))),
      card("occupancy", `occupancy-${id}`), card("dial_level", `dial-level-${id}`),
      card("handle_time", `handle-${id}`), card("dials", `dials-${id}`),
      card("pacing", `pacing-now-${id}`)),
    el("h3", {}, t("pacing")),
    el("div", { class: "row" },
      el("label", {}, t("mode"), " ", el("select", { id: `mode-${id}` }, modes.map((m) => el("option", { value: m }, m)))),
      el("label", {}, t("lines_per_agent"), " ", el("input", { id: `lines-${id}`, type: "number", step: "0.1", min: "1", max: "10", style: "width:5em" })),
      el("label", {}, t("abandon_target"), " ", el("input", { id: `target-${id}`, type: "number", step: "0.001", min: "0.001", max: "0.1", style: "width:6em" })),
      el("button", { id: `apply-${id}`, type: "button", onclick: () => applyPacing(id) }, t("apply")),
      el("button", { id: `start-${id}`, type: "button", class: "secondary", onclick: () => setState(id, "start") }, t("start")),
      el("button", { id: `pause-${id}`, type: "button", class: "secondary", onclick: () => setState(id, "pause") }, t("pause"))),
    el("h3", {}, t("agents")),
    el("table", { id: `agents-table-${id}` }),
    el("h3", {}, t("chart")),
    el("canvas", { id: `chart-${id}`, width: 900, height: 120 }));
  document.getElementById("campaigns").append(box);
  const p = c.live.pacing;
  document.getElementById(`mode-${id}`).value = p.mode;
  document.getElementById(`lines-${id}`).value = p.max_lines_per_agent;
  document.getElementById(`target-${id}`).value = p.abandon_target;
  built.add(id);
  drawChart(id);
}

function render(c) {
  const v = c.live, id = v.campaign;
  if (!built.has(id)) buildCampaign(c);
  const byState = {};
  for (const a of v.agents) byState[a.state] = (byState[a.state] || 0) + 1;
  const set = (key, text) => { document.getElementById(`${key}-${id}`).textContent = text; };
  set("running", v.running ? "● running" : "❚❚ paused");
  const line = document.getElementById(`line-${id}`);
  line.hidden = v.line.up;
  line.textContent = v.line.up ? "" : `${t("line_down")}: ${t("line_" + v.line.code)}${v.line.module ? " " + v.line.module : ""}`;
  set("agents", Object.entries(byState).map(([s, n]) => `${n} ${s}`).join(", ") || "0");
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
  set("pacing-now", `${v.pacing.mode.replace("-", " ")} · ${v.pacing.max_lines_per_agent} / ${t("lines_per_agent").toLowerCase()}`);
  document.getElementById(`agents-table-${id}`).replaceChildren(
    ...v.agents.filter((a) => a.state !== "logged out").map((a) =>
      el("tr", {}, el("td", {}, a.id >= 1000000000 ? `sim-${a.id - 1000000000 + 1}` : `#${a.id}`),
        el("td", {}, el("span", { class: "state " + a.state.replace(/ /g, "-") }, a.state)), el("td", { class: "muted" }, age(a.for_secs)),
        el("td", { class: "spy" }, a.id >= 1000000000 ? null : ["listen", "whisper", "barge"].map((mode) =>
          el("button", { type: "button", class: "secondary", "data-mode": mode, "data-agent": a.id, onclick: (e) => supervise(a.id, mode, e.target) }, t(mode)))))));
}

async function supervise(agent, mode, button) {
  button.disabled = true;
  try { await api("POST", "/api/supervision", { agent, mode }); refreshSessions(); }
  catch (err) { flash(err.message, true); }
  finally { button.disabled = false; }
}

async function refreshSessions() {
  let sessions;
  try { sessions = await api("GET", "/api/supervision"); } catch (e) { return; }
  document.getElementById("sessions").replaceChildren(sessions.length
    ? el("table", {}, sessions.map((s) => el("tr", { class: "session" },
        el("td", {}, `#${s.agent}`), el("td", {}, t(s.mode)), el("td", { class: "muted" }, t("session_" + s.state)),
        el("td", {}, el("button", { type: "button", onclick: () => stopSession(s.id) }, t("stop_listening"))))))
    : el("p", { class: "muted" }, t("none")));
}

async function stopSession(id) {
  try { await api("POST", `/api/supervision/${id}/stop`); } catch (err) { flash(err.message, true); }
  refreshSessions();
}

async function refreshRecordings() {
  let recordings;
  try { recordings = await api("GET", "/api/recordings"); } catch (e) { return; }
  const when = (ms) => ms ? new Date(ms).toLocaleTimeString(lang === "hi" ? "hi-IN" : "en-IN") : "";
  document.getElementById("recordings").replaceChildren(recordings.length
    ? el("table", {}, recordings.map((r) => el("tr", { class: "recording" },
        el("td", {}, when(r.connect_at)), el("td", {}, r.agent_name || ""),
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

async function drawChart(id) {
  let points;
  try { points = await api("GET", `/api/campaigns/${id}/history`); } catch (e) { return; }
  const canvas = document.getElementById(`chart-${id}`);
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const series = [["occupancy", "#0f5f5c", 1], ["abandon_rate", "#b3261e", 0.1], ["answer_rate", "#1565c0", 1]];
  series.forEach(([key, colour, max], i) => {
    g.strokeStyle = colour; g.beginPath();
    points.forEach((p, j) => {
      const x = points.length < 2 ? 0 : (j / (points.length - 1)) * canvas.width;
      const y = canvas.height - 4 - Math.min(1, p[key] / max) * (canvas.height - 8);
      j ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
    g.fillStyle = colour; g.fillText(`${key} (0–${max * 100}%)`, 6, 12 + 12 * i);
  });
}

async function applyPacing(id) {
  try {
    const p = await api("PUT", `/api/campaigns/${id}/pacing`, {
      mode: document.getElementById(`mode-${id}`).value,
      max_lines_per_agent: Number(document.getElementById(`lines-${id}`).value),
      abandon_target: Number(document.getElementById(`target-${id}`).value),
    });
    flash(`${t("pacing")}: ${p.mode}, ${p.max_lines_per_agent} / agent, ${pct(p.abandon_target)}`);
  } catch (err) { flash(err.message, true); }
}

async function setState(id, action) {
  try { await api("POST", `/api/campaigns/${id}/${action}`); } catch (err) { flash(err.message, true); }
}

async function refreshAlerts() {
  try {
    const alerts = await api("GET", "/api/alerts");
    document.getElementById("alerts").replaceChildren(alerts.length
      ? el("table", { id: "alerts-table" }, alerts.map((a) => el("tr", {},
          el("td", { class: a.kind === "triage_override" ? "urgent" : "" }, t("alert_" + a.kind)),
          el("td", {}, a.contact_name), el("td", {}, a.day), el("td", { class: "muted" }, a.detail))))
      : el("p", { class: "muted" }, t("none")));
  } catch (e) { /* admins do not see alerts */ }
}

(async () => {
  const me = await startPage(["supervisor", "admin"]);
  if (!me) return;
  role = me.user.role;
  if (role !== "supervisor") document.body.classList.add("read-only");
  refreshAlerts();
  setInterval(refreshAlerts, 30000);
  refreshSessions();
  refreshRecordings();
  setInterval(refreshSessions, 3000);
  setInterval(refreshRecordings, 30000);
  setInterval(() => built.forEach(drawChart), 15000);
  live((m) => {
    if (m.type !== "wallboard") return;
    m.campaigns.forEach(render);
    const b = m.tickets.by_age;
    document.getElementById("tickets").replaceChildren(el("table", {},
      el("tr", {}, el("th", {}, t("tickets")), el("td", { id: "tickets-open" }, m.tickets.open), el("td", { class: "urgent" }, `${m.tickets.urgent} ${t("urgent")}`)),
      el("tr", {}, el("td", {}, "< 15 min"), el("td", {}, b.under_15m)),
      el("tr", {}, el("td", {}, "15 min – 1 h"), el("td", {}, b["15m_to_1h"])),
      el("tr", {}, el("td", {}, "1 – 4 h"), el("td", {}, b["1h_to_4h"])),
      el("tr", {}, el("td", {}, "> 4 h"), el("td", { class: b.over_4h ? "urgent" : "" }, b.over_4h)),
      el("tr", {}, el("td", {}, t("overdue")), el("td", { id: "tickets-overdue", class: m.tickets.overdue ? "urgent" : "" }, m.tickets.overdue)),
      el("tr", {}, el("th", {}, t("at_desk")), el("td", { id: "desk-members" }, m.desk.members)),
      el("tr", {}, el("td", {}, t("on_transfer")), el("td", { id: "desk-transferring" }, m.desk.transferring))));
  });
})();
