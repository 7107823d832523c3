// The medical desk: tickets, consults, callers handed over live, callbacks.
const tickets = new Map();
const contacts = new Map();  // ticket id → the caller's record shown in a consult
const offered = new Set();   // tickets whose callback the desk offers me now
let questionnaire = null;
let me = null;
const RESOLUTIONS = ["advice_given", "teleconsultation_done", "medicine_delivered", "ambulance_sent", "admitted",
  "no_action_needed", "unreachable"];
const PAGE_TITLE = document.title;

// The answers in the questionnaire's order, each with its question; answers
// to questions the questionnaire no longer has come last, by their field.
function answerText(answers) {
  const text = (v) => Array.isArray(v) ? v.join(", ") : v === true ? t("yes") : v === false ? t("no") : v;
  const questions = questionnaire ? questionnaire.questions : [];
  const known = questions.filter((q) => q.id in answers)
    .map((q) => `${q.label[lang] || q.label.en}: ${text(answers[q.id])}`);
  const rest = Object.keys(answers).filter((k) => !questions.some((q) => q.id === k))
    .map((k) => `${k}: ${text(answers[k])}`);
  return known.concat(rest);
}

// A new consult or callback: a tone and the tab's title, until the member looks.
let audio = null;
function notify(what) {
  if (document.hidden || !document.hasFocus()) document.title = `● ${what} — ${PAGE_TITLE}`;
  if (!audio) return;
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = 880;
  gain.gain.setValueAtTime(0.2, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
  tone.connect(gain).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.6);
}
window.addEventListener("focus", () => { document.title = PAGE_TITLE; });

function renderList(highlight) {
  const rows = [...tickets.values()].sort((a, b) =>
    (a.urgency === b.urgency ? a.created_at - b.created_at : a.urgency === "urgent" ? -1 : 1));
  const table = document.getElementById("tickets");
  if (!rows.length) { table.replaceChildren(el("tr", {}, el("td", { class: "muted" }, t("no_tickets")))); return; }
  table.replaceChildren(...rows.map((k) =>
    el("tr", { id: `ticket-${k.id}`, class: k.id === highlight ? "new" : "" },
      el("td", {}, `#${k.id}`),
      el("td", { class: k.urgency === "urgent" ? "urgent" : "" }, t(k.urgency)),
      el("td", {}, k.contact_name),
      el("td", { class: "muted" }, k.transfer === "ringing" ? t("on_transfer")
        : k.transfer === "live" ? (k.live_to === me.user.id ? t("with_me_live") : "live")
        : k.fallback ? t(`fallback_${k.fallback}`) : ""),
      el("td", { class: "muted" }, age(Math.floor((Date.now() - k.created_at) / 1000))),
      k.transfer === "live" ? el("td", { class: "muted" }, "") :
      el("td", { class: k.overdue || Date.now() > k.due_at ? "urgent overdue" : "muted" },
        Date.now() > k.due_at ? t("overdue") : `${t("due_in")} ${age(Math.floor((k.due_at - Date.now()) / 1000))}`),
      el("td", {}, el("button", { type: "button", class: offered.has(k.id) ? "" : "secondary", onclick: () => open(k.id) },
        offered.has(k.id) ? t("callback_offered") : "→")))));
}

async function open(id) {
  const k = tickets.get(id);
  const c = await api("GET", `/api/contacts/${k.contact}`);
  showTicket(k, c, k.transfer === "live" && k.live_to === me.user.id ? "live" : null);
}

// The caller's details and answers. `mode` is "consult" while an agent
// briefs me, "live" once the caller is handed to me.
function showTicket(k, c, mode) {
  const id = k.id;
  contacts.set(id, c);
  const answers = answerText(k.answers);
  const banner = { consult: t("consulting"), live: t("with_caller") }[mode];
  document.getElementById("detail").replaceChildren(...[
    banner ? el("p", { id: "consult", class: "state on-call" }, banner) : null,
    el("h3", { id: "detail-name" }, c.name, " ", el("span", { class: k.urgency === "urgent" ? "urgent" : "muted" }, t(k.urgency))),
    el("p", {}, c.phone, " · ", t(c.category), " · ", c.risk.map((r) => t(r)).join(", ")),
    k.rule ? el("p", { id: "detail-rule", class: k.urgency === "urgent" ? "urgent" : "" },
      `${t("rule_fired")}: ${k.rule[lang] || k.rule.en}`) : null,
    el("p", { id: "detail-reason" }, k.reason),
    k.agent_notes ? el("p", { id: "detail-notes" }, `${t("agent_notes")}: ${k.agent_notes}`) : null,
    el("ul", { id: "detail-answers" }, answers.map((a) => el("li", {}, a))),
    mode === "consult" ? el("div", { class: "row" },
      el("button", { id: "desk-done", type: "button", class: "secondary", onclick: doneWithCaller }, t("done_with_caller"))) : null,
    offered.has(id) ? el("div", { class: "row" },
      el("button", { id: "reached", type: "button", onclick: () => callback(id, "reached") }, t("reached")),
      el("button", { id: "not-reached", type: "button", class: "secondary", onclick: () => callback(id, "unreached") }, t("not_reached"))) : null,
    el("div", { class: "row" },
      mode === "live" ? null : el("button", { id: "take", type: "button", class: "secondary", onclick: () => take(id) }, t("take")),
      el("select", { id: "resolution" }, el("option", { value: "" }, t("choose_action")),
        RESOLUTIONS.map((r) => el("option", { value: r }, t(`res_${r}`)))),
      el("input", { id: "resolve-notes", size: 24, maxlength: 4000, placeholder: t("notes") }),
      el("button", { id: "resolve", type: "button", onclick: () => resolve(id) }, t("resolve")))].filter((n) => n));
}

async function callback(id, result) {
  try {
    await api("POST", `/api/tickets/${id}/callback`, { result });
    offered.delete(id);
    renderList();
    flash(t("saved"));
  } catch (e) { flash(said(e), true); }
}

async function doneWithCaller() {
  try { renderDesk(await api("POST", "/api/desk/done")); flash(t("saved")); } catch (e) { flash(said(e), true); }
}

function renderDesk(members) {
  const here = members.some((m) => m.member === me.user.id);
  const badge = document.getElementById("desk-state");
  badge.textContent = here ? t("at_desk") : "";
  badge.className = here ? "state ready" : "state";
  document.getElementById("desk-join").disabled = here;
  document.getElementById("desk-leave").disabled = !here;
}

function languageBoxes() {
  const chosen = JSON.parse(localStorage.getItem("desk-languages") || '["hi", "en"]');
  document.getElementById("desk-languages").append(...LANGUAGES.map(([code, name]) =>
    el("label", {}, el("input", { type: "checkbox", name: "desk-lang", value: code, checked: chosen.includes(code) }), ` ${name} `)));
}

async function joinDesk() {
  // Joining is a click: the page may make sounds from now on.
  if (!audio && window.AudioContext) audio = new AudioContext();
  const languages = [...document.querySelectorAll("input[name='desk-lang']:checked")].map((b) => b.value);
  localStorage.setItem("desk-languages", JSON.stringify(languages));
  try { renderDesk(await api("POST", "/api/desk/in", { languages })); } catch (e) { flash(said(e), true); }
}

// Taking a ticket another member holds is a take-over: asked first, audited.
// The list may not know a colleague took it since; the server's refusal asks too.
async function take(id) {
  const held = tickets.get(id);
  const other = held && held.assigned_to && held.assigned_to !== me.user.id;
  try {
    if (!other) {
      try {
        tickets.set(id, await api("POST", `/api/tickets/${id}/assign`));
        flash(t("saved"));
        return;
      } catch (e) { if (e.code !== "held_by_other") throw e; }
    }
    if (!confirm(t("take_over_confirm"))) return;
    tickets.set(id, await api("POST", `/api/tickets/${id}/assign?take_over=true`));
    flash(t("saved"));
  } catch (e) { flash(e.code === "held_by_other" ? t("held_by_other") : e.message, true); }
}

async function resolve(id) {
  if (!document.getElementById("resolution").value) { flash(t("action_first"), true); return; }
  try {
    await api("POST", `/api/tickets/${id}/resolve`, {
      resolution: document.getElementById("resolution").value,
      notes: document.getElementById("resolve-notes").value });
    tickets.delete(id);
    contacts.delete(id);
    document.getElementById("detail").replaceChildren(el("p", { class: "muted" }, "—"));
    renderList();
    renderDesk(await api("GET", "/api/desk"));
    flash(t("saved"));
  } catch (e) { flash(e.code === "held_by_other" ? t("held_by_other") : e.message, true); }
}

(async () => {
  me = await startPage(["medical"]);
  if (!me) return;
  document.addEventListener("languagechange", async () => { renderList(); renderDesk(await api("GET", "/api/desk")); });
  questionnaire = await api("GET", "/api/questionnaire");
  languageBoxes();
  renderDesk(await api("GET", "/api/desk"));
  document.getElementById("desk-join").onclick = joinDesk;
  document.getElementById("desk-leave").onclick = async () => {
    try { renderDesk(await api("POST", "/api/desk/out")); } catch (e) { flash(said(e), true); }
  };
  setInterval(() => renderList(), 30000);
  live((m) => {
    if (m.type === "tickets") { tickets.clear(); m.open.forEach((k) => tickets.set(k.id, k)); renderList(); }
    else if (m.type === "escalation") { tickets.set(m.ticket.id, m.ticket); renderList(m.ticket.id); }
    else if (m.type === "ticket_resolved") { tickets.delete(m.ticket); offered.delete(m.ticket); renderList(); }
    else if (m.type === "ticket_updated") {
      tickets.set(m.ticket.id, m.ticket);
      renderList(m.ticket.id);
      // Handed to me live: the same caller's screen, now to record what I do.
      const c = contacts.get(m.ticket.id);
      if (m.ticket.transfer === "live" && m.ticket.live_to === me.user.id && c) showTicket(m.ticket, c, "live");
    }
    else if (m.type === "consult") {
      tickets.set(m.ticket.id, m.ticket); renderList(m.ticket.id); showTicket(m.ticket, m.contact, "consult");
      notify(t("new_consult"));
    }
    else if (m.type === "callback_offered") {
      offered.add(m.ticket); renderList(m.ticket); flash(`${t("callback_offered")}: #${m.ticket}`);
      notify(t("callback_offered"));
    }
  });
})();
