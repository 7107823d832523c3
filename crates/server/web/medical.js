// The medical desk: tickets, consults and callbacks.
const tickets = new Map();
const offered = new Set();   // tickets whose callback the desk offers me now
let questionnaire = null;
let me = null;
const RESOLUTIONS = ["teleconsultation_done", "medicine_delivered", "ambulance_sent", "admitted", "no_action_needed", "unreachable"];

function answerText(answers) {
  if (!questionnaire) return JSON.stringify(answers);
  return Object.entries(answers).map(([k, v]) => {
    const q = questionnaire.questions.find((x) => x.id === k);
    const label = q ? (q.label[lang] || q.label.en) : k;
    const text = Array.isArray(v) ? v.join(", ") : v === true ? t("yes") : v === false ? t("no") : v;
    return `${label}: ${text}`;
  });
}

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
      el("td", { class: "muted" }, k.transfer === "ringing" ? t("on_transfer") : (k.fallback || "").replace(/_/g, " ")),
      el("td", { class: "muted" }, age(Math.floor((Date.now() - k.created_at) / 1000))),
      el("td", { class: Date.now() > k.due_at ? "urgent overdue" : "muted" },
        Date.now() > k.due_at ? t("overdue") : `${t("due_in")} ${age(Math.floor((k.due_at - Date.now()) / 1000))}`),
      el("td", {}, el("button", { type: "button", class: offered.has(k.id) ? "" : "secondary", onclick: () => open(k.id) },
        offered.has(k.id) ? t("callback_offered") : "→")))));
}

async function open(id) {
  const k = tickets.get(id);
  showTicket(k, await api("GET", `/api/contacts/${k.contact}`));
}

// The caller's details and answers; `consult` while an agent briefs me live.
function showTicket(k, c, consult) {
  const id = k.id;
  const answers = answerText(k.answers);
  document.getElementById("detail").replaceChildren(...[
    consult ? el("p", { id: "consult", class: "state on-call" }, t("consulting")) : null,
    el("h3", { id: "detail-name" }, c.name, " ", el("span", { class: k.urgency === "urgent" ? "urgent" : "muted" }, t(k.urgency))),
    el("p", {}, c.phone, " · ", c.category, " · ", c.risk.join(", ")),
    k.rule ? el("p", { id: "detail-rule", class: k.urgency === "urgent" ? "urgent" : "" },
      `${t("rule_fired")}: ${k.rule[lang] || k.rule.en}`) : null,
    el("p", {}, k.reason),
    el("ul", { id: "detail-answers" }, [].concat(answers).map((a) => el("li", {}, a))),
    consult ? el("div", { class: "row" },
      el("button", { id: "desk-done", type: "button", class: "secondary", onclick: doneWithCaller }, t("done_with_caller"))) : null,
    offered.has(id) ? el("div", { class: "row" },
      el("button", { id: "reached", type: "button", onclick: () => callback(id, "reached") }, t("reached")),
      el("button", { id: "not-reached", type: "button", class: "secondary", onclick: () => callback(id, "unreached") }, t("not_reached"))) : null,
    el("div", { class: "row" },
      el("button", { id: "take", type: "button", class: "secondary", onclick: () => take(id) }, t("take")),
      el("select", { id: "resolution" }, RESOLUTIONS.map((r) => el("option", { value: r }, r.replace(/_/g, " ")))),
      el("input", { id: "resolve-notes", size: 24, placeholder: t("notes") }),
      el("button", { id: "resolve", type: "button", onclick: () => resolve(id) }, t("resolve")))].filter((n) => n));
}

async function callback(id, result) {
  try {
    await api("POST", `/api/tickets/${id}/callback`, { result });
    offered.delete(id);
    renderList();
    flash(t("saved"));
  } catch (e) { flash(e.message, true); }
}

async function doneWithCaller() {
  try { renderDesk(await api("POST", "/api/desk/done")); flash(t("saved")); } catch (e) { flash(e.message, true); }
}

function renderDesk(members) {
  const here = members.some((m) => m.member === me.user.id);
  const badge = document.getElementById("desk-state");
  badge.textContent = here ? t("at_desk") : "";
  badge.className = here ? "state ready" : "state";
  document.getElementById("desk-join").disabled = here;
  document.getElementById("desk-leave").disabled = !here;
}

async function joinDesk() {
  const languages = document.getElementById("desk-languages").value.split(/[ ,]+/).filter((l) => l);
  try { renderDesk(await api("POST", "/api/desk/in", { languages })); } catch (e) { flash(e.message, true); }
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
  try {
    await api("POST", `/api/tickets/${id}/resolve`, {
      resolution: document.getElementById("resolution").value,
      notes: document.getElementById("resolve-notes").value });
    tickets.delete(id);
    document.getElementById("detail").replaceChildren(el("p", { class: "muted" }, "—"));
    renderList();
    flash(t("saved"));
  } catch (e) { flash(e.code === "held_by_other" ? t("held_by_other") : e.message, true); }
}

(async () => {
  me = await startPage(["medical"]);
  if (!me) return;
  questionnaire = await api("GET", "/api/questionnaire");
  renderDesk(await api("GET", "/api/desk"));
  document.getElementById("desk-join").onclick = joinDesk;
  document.getElementById("desk-leave").onclick = async () => {
    try { renderDesk(await api("POST", "/api/desk/out")); } catch (e) { flash(e.message, true); }
  };
  setInterval(() => renderList(), 30000);
  live((m) => {
    if (m.type === "tickets") { tickets.clear(); m.open.forEach((k) => tickets.set(k.id, k)); renderList(); }
    else if (m.type === "escalation") { tickets.set(m.ticket.id, m.ticket); renderList(m.ticket.id); }
    else if (m.type === "ticket_resolved") { tickets.delete(m.ticket); offered.delete(m.ticket); renderList(); }
    else if (m.type === "consult") { tickets.set(m.ticket.id, m.ticket); renderList(m.ticket.id); showTicket(m.ticket, m.contact, true); }
    else if (m.type === "callback_offered") { offered.add(m.ticket); renderList(m.ticket); flash(`${t("callback_offered")}: #${m.ticket}`); }
  });
})();
