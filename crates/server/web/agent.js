// The agent desk: campaign, state, screen pop, questions, result, escalation.
let status = { state: "logged out", call: null, campaign: null };
let questionnaire = null;
let attempt = null;   // the call on screen (stays after hang-up until saved)
let transfer = null;  // the escalation being transferred to the medical desk: ticket id
const transferStages = {};  // ticket → latest stage (the socket may be ahead of the reply)
const campaignModes = {};   // campaign id → pacing mode (preview shows "Show the next contact")
let previewShown = null;    // preview mode: the contact on screen before it is dialled

function renderStatus(s) {
  status = s;
  const badge = document.getElementById("state");
  badge.textContent = t("state_" + s.state.replace(/ /g, "_"));
  badge.dataset.state = s.state;
  badge.className = "state " + s.state.replace(/ /g, "-");
  document.getElementById("after-call").textContent = s.after_call ? t("after_call_" + s.after_call.replace(/ /g, "_")) : "";
  document.getElementById("for").textContent = s.campaign ? `#${s.campaign}` : "";
  const inCampaign = !!s.campaign;
  document.getElementById("join-row").hidden = inCampaign;
  document.getElementById("ready").disabled = !inCampaign || s.state === "ready" || s.state === "on call";
  document.getElementById("pause").disabled = !inCampaign || s.state === "paused";
  document.getElementById("hangup").disabled = s.state !== "on call";
  const preview = campaignModes[s.campaign] === "preview";
  const previewing = preview && attempt === null && s.preview != null;
  document.getElementById("next").hidden = !preview || previewing;
  document.getElementById("next").disabled = s.state !== "ready";
  document.getElementById("preview-row").hidden = !previewing;
  document.getElementById("dial").disabled = s.state !== "ready";
  document.getElementById("skip").disabled = s.state !== "ready";
  showPreview(previewing ? s.preview : null);
  document.getElementById("leave").disabled = !inCampaign;
  const hasCall = attempt !== null;
  for (const id of ["save", "save-pause", "escalate", "callback"]) document.getElementById(id).disabled = !hasCall;
  document.querySelectorAll("#unrecorded button").forEach((b) => { b.disabled = hasCall; });
}

// Preview mode: the contact held for the agent, on screen before it is dialled.
async function showPreview(contact) {
  if (contact === previewShown) return;
  previewShown = contact;
  if (contact === null) {
    if (attempt === null) waitingForCall();
    return;
  }
  const c = await api("GET", `/api/contacts/${contact}`);
  if (previewShown !== contact || attempt !== null) return;
  renderContact(c);
  document.getElementById("screen-pop").prepend(el("p", { class: "urgent", id: "before-dial" }, t("before_dial")));
}

function waitingForCall() {
  document.getElementById("screen-pop").replaceChildren(el("p", { class: "muted" }, t("waiting_for_call")));
}

function renderQuestions() {
  const form = document.getElementById("questions");
  form.replaceChildren();
  if (!questionnaire) return;
  for (const q of questionnaire.questions) {
    const name = "q-" + q.id;
    let input;
    if (q.kind === "yes_no") {
      input = el("span", {},
        el("label", { style: "display:inline" }, el("input", { type: "radio", name, value: "true" }), " ", t("yes")), " ",
        el("label", { style: "display:inline" }, el("input", { type: "radio", name, value: "false" }), " ", t("no")));
    } else if (q.kind === "number") {
      input = el("input", { type: "number", name, min: q.min, max: q.max, style: "width:6em" });
    } else if (q.kind === "choice") {
      input = el("select", { name }, el("option", { value: "" }, "—"),
        q.choices.map((c) => el("option", { value: c.id }, c[lang] || c.en)));
    } else {
      input = el("span", {}, q.choices.map((c) =>
        el("label", { style: "display:inline; margin-right:.6em" }, el("input", { type: "checkbox", name, value: c.id }), " ", c[lang] || c.en)));
    }
    form.append(el("div", { class: "question" },
      el("div", { class: q.required ? "required" : "" }, q.label[lang] || q.label.en), input));
  }
}

// Puts `values` (as answers() returns them) back into the form.
function fillAnswers(values) {
  const form = document.getElementById("questions");
  for (const [id, v] of Object.entries(values)) {
    const name = "q-" + id;
    if (typeof v === "boolean") {
      const radio = form.querySelector(`input[name="${name}"][value="${v}"]`);
      if (radio) radio.checked = true;
    } else if (Array.isArray(v)) {
      v.forEach((c) => { const box = form.querySelector(`input[name="${name}"][value="${c}"]`); if (box) box.checked = true; });
    } else {
      const field = form.querySelector(`[name="${name}"]`);
      if (field) field.value = v;
    }
  }
}

// The questionnaire's verdict on the answers so far, from the server: the
// rule that holds (shown as it fires) and the required questions left.
let triage = null;
// What is typed goes to the server as it is typed (a reload loses nothing);
// the answer is the questionnaire's verdict.
async function checkTriage() {
  if (attempt === null) return;
  const asked = attempt;
  try {
    const r = await api("PUT", `/api/calls/${asked}/draft`, {
      answers: answers(), notes: document.getElementById("notes").value,
      code: document.getElementById("disposition").value,
    });
    if (asked === attempt) { triage = r; renderTriage(); }
  } catch (err) { /* answers still being typed (a number out of range): the save says why */ }
}

// A call back on the form (after a reload, or from the list to record), with what was typed.
async function openCall(attemptId, contactId) {
  attempt = attemptId;
  resetForm();
  renderContact(await api("GET", `/api/contacts/${contactId}`));
  const draft = await api("GET", `/api/calls/${attemptId}/draft`);
  fillAnswers(draft.answers);
  document.getElementById("notes").value = draft.notes;
  document.getElementById("disposition").value = draft.code;
  renderStatus(status);
  checkTriage();
}

// Answered calls with no result yet: each stays here until it is recorded.
async function refreshUnrecorded() {
  const calls = await api("GET", "/api/agent/unrecorded");
  const list = document.getElementById("unrecorded");
  list.replaceChildren(...(calls.length ? calls.map((c) => el("li", {},
    el("button", { type: "button", class: "secondary", "data-attempt": c.attempt, disabled: attempt !== null,
      onclick: () => { if (attempt === null) openCall(c.attempt, c.contact); } },
      `${c.contact_name} · ${new Date(c.dial_at).toLocaleTimeString()}`))) : [el("li", { class: "muted" }, t("none"))]));
}
function renderTriage() {
  const box = document.getElementById("triage");
  const rule = triage && triage.rule;
  box.hidden = !rule;
  if (!rule) return;
  const danger = rule.urgency === "urgent" && !triage.escalated;
  box.className = "triage" + (rule.urgency === "urgent" ? " urgent" : "");
  box.textContent = `${t(rule.urgency)} — ${rule.reason[lang] || rule.reason.en}` + (danger ? ". " + t("danger_signs") : "");
}
let triageTimer = null;
function answersChanged() {
  clearTimeout(triageTimer);
  triageTimer = setTimeout(checkTriage, 250);
}

function questionLabel(id) {
  const q = questionnaire && questionnaire.questions.find((x) => x.id === id);
  return q ? (q.label[lang] || q.label.en) : id;
}

function answers() {
  const out = {};
  if (!questionnaire) return out;
  const form = document.getElementById("questions");
  for (const q of questionnaire.questions) {
    const name = "q-" + q.id;
    if (q.kind === "yes_no") {
      const checked = form.querySelector(`input[name="${name}"]:checked`);
      if (checked) out[q.id] = checked.value === "true";
    } else if (q.kind === "number") {
      const v = form.querySelector(`[name="${name}"]`).value;
      if (v !== "") out[q.id] = Number(v);
    } else if (q.kind === "choice") {
      const v = form.querySelector(`[name="${name}"]`).value;
      if (v) out[q.id] = v;
    } else {
      const vs = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
      if (vs.length) out[q.id] = vs;
    }
  }
  return out;
}

function renderContact(c) {
  const box = document.getElementById("screen-pop");
  box.replaceChildren(
    el("h3", { id: "contact-name", style: "margin:.2rem 0", translate: "no" }, c.name || "—"),
    el("p", { class: "muted", translate: "no" }, c.phone, " · ", c.language || ""),
    el("table", {},
      el("tr", {}, el("th", {}, t("category")), el("td", { id: "contact-category" }, t(c.category))),
      el("tr", {}, el("th", {}, t("follow_up_day")), el("td", { id: "follow-up-day" },
        c.follow_up_day ? `${c.follow_up_day} / ${c.follow_up_days}` : "—")),
      el("tr", {}, el("th", {}, t("risk")), el("td", { class: c.risk.length ? "urgent" : "" }, c.risk.map((r) => t(r)).join(", ") || t("none")))),
    el("h4", {}, t("history")),
    el("table", { id: "history" }, c.calls.filter((h) => h.attempt !== attempt).map((h) =>
      el("tr", {}, el("td", {}, new Date(h.dial_at).toLocaleString(lang === "hi" ? "hi-IN" : "en-IN")), el("td", {}, h.outcome ? t("outcome_" + h.outcome) : "…"),
        el("td", {}, h.disposition ? t("disp_" + h.disposition) : ""), el("td", { class: "muted" }, answerText(h.answers))))));
}

// Earlier answers as the questions and choices read, not as field names.
function answerText(answers) {
  if (!answers) return "";
  const questions = (questionnaire && questionnaire.questions) || [];
  return Object.entries(answers).map(([id, value]) => {
    const q = questions.find((x) => x.id === id);
    const label = q ? (q.label ? (q.label[lang] || q.label.en) : (q[lang] || q.en || id)) : id;
    const choice = q && q.choices && q.choices.find((c) => c.id === value);
    const shown = choice ? (choice[lang] || choice.en) : value === true ? t("yes") : value === false ? t("no") : value;
    return `${label}: ${shown}`;
  }).join(" · ");
}

// A new call starts with nothing recorded: no result, no urgency, no verdict.
function resetForm() {
  triage = null;
  renderTriage();
  for (const id of ["disposition", "urgency", "notes", "reason", "override-reason"]) document.getElementById(id).value = "";
  document.getElementById("override").hidden = true;
  renderQuestions();
}

function clearCall() {
  attempt = null;
  transfer = null;
  document.getElementById("transfer").hidden = true;
  previewShown = null;
  waitingForCall();
  resetForm();
  renderStatus(status);
}

async function act(path, body) {
  try {
    renderStatus(await api("POST", path, body));
  } catch (err) {
    flash(said(err), true);
  }
}

let lastThen = "ready";
async function save(then, overrideReason) {
  if (attempt === null) return;
  const code = document.getElementById("disposition").value;
  if (!code) { flash(t("result_first"), true); document.getElementById("disposition").focus(); return; }
  lastThen = then;
  try {
    await api("POST", `/api/calls/${attempt}/disposition`, {
      code, answers: answers(), notes: document.getElementById("notes").value, then,
      override_reason: overrideReason,
    });
    flash(t("saved"));
    clearCall();
    renderStatus(await api("GET", "/api/agent"));
    refreshUnrecorded();
  } catch (err) {
    if (err.code === "danger_signs") {
      // Escalating is the way; saving needs the agent's reason.
      await checkTriage();
      document.getElementById("override").hidden = false;
      flash(t("danger_signs"), true);
    } else if (err.code === "answers_missing") {
      await checkTriage();
      const missing = triage ? triage.missing.map(questionLabel).join(", ") : "";
      flash(`${t("answers_missing")} ${missing}`, true);
    } else {
      flash(said(err), true);
    }
  }
}

function saveWithReason() {
  const reason = document.getElementById("override-reason").value.trim();
  if (!reason) { flash(t("override_needed"), true); document.getElementById("override-reason").focus(); return; }
  save(lastThen, reason);
}

async function escalate() {
  if (attempt === null) return;
  try {
    const urgency = document.getElementById("urgency").value;
    const r = await api("POST", `/api/calls/${attempt}/escalate`, {
      reason: document.getElementById("reason").value, answers: answers(),
      urgency: urgency || undefined,
    });
    document.getElementById("disposition").value = "escalated";
    document.getElementById("override").hidden = true;
    checkTriage();
    flash(`${t("escalated")} #${r.ticket} (${t(r.urgency)})`);
    if (r.transfer === "ringing") { transfer = r.ticket; renderTransfer(transferStages[r.ticket] || "ringing"); }
  } catch (err) {
    flash(said(err), true);
  }
}

// The warm transfer's progress, as the desk reports it on the socket.
function renderTransfer(stage) {
  const box = document.getElementById("transfer");
  box.hidden = false;
  const badge = document.getElementById("transfer-stage");
  badge.textContent = t("transfer_" + stage);
  badge.dataset.stage = stage;
  const going = stage === "ringing" || stage === "consulting";
  document.getElementById("transfer-complete").disabled = stage !== "consulting";
  document.getElementById("transfer-cancel").disabled = !going;
}

async function transferAction(what) {
  if (transfer === null) return;
  try { await api("POST", `/api/escalations/${transfer}/${what}`); } catch (err) { flash(said(err), true); }
}

(async () => {
  const me = await startPage(["agent"]);
  if (!me) return;
  questionnaire = await api("GET", "/api/questionnaire");
  renderQuestions();
  const campaigns = await api("GET", "/api/campaigns");
  campaigns.forEach((c) => { campaignModes[c.id] = c.pacing.mode; });
  setInterval(async () => {
    (await api("GET", "/api/campaigns")).forEach((c) => { campaignModes[c.id] = c.pacing.mode; });
    renderStatus(status);
  }, 15000);
  document.getElementById("campaign").replaceChildren(...campaigns.map((c) => el("option", { value: c.id, translate: "no" }, c.name)));
  renderStatus(await api("GET", "/api/agent"));
  // Reloaded during a call or its wrap-up: the call comes back on the screen, to be disposed of.
  if (status.call && attempt === null) await openCall(status.call.attempt, status.call.contact);
  refreshUnrecorded();
  document.getElementById("join").onclick = () =>
    act("/api/agent/login", { campaign: Number(document.getElementById("campaign").value) });
  document.getElementById("ready").onclick = () => act("/api/agent/ready");
  document.getElementById("pause").onclick = () => act("/api/agent/pause", { reason: "break" });
  document.getElementById("hangup").onclick = () => act("/api/agent/hangup");
  // A double click shows, dials or skips once.
  document.getElementById("next").onclick = (e) => once(e.currentTarget, () => act("/api/agent/preview"));
  document.getElementById("dial").onclick = (e) => once(e.currentTarget, () => act("/api/agent/next"));
  document.getElementById("skip").onclick = (e) => once(e.currentTarget, () => act("/api/agent/skip"));
  document.getElementById("leave").onclick = () => act("/api/agent/logout");
  document.getElementById("save").onclick = () => save("ready");
  document.getElementById("save-pause").onclick = () => save("pause");
  document.getElementById("escalate").onclick = escalate;
  document.getElementById("save-override").onclick = saveWithReason;
  document.getElementById("questions").addEventListener("input", answersChanged);
  document.getElementById("questions").addEventListener("change", answersChanged);
  document.getElementById("notes").addEventListener("input", answersChanged);
  document.getElementById("disposition").addEventListener("change", answersChanged);
  document.getElementById("transfer-complete").onclick = () => transferAction("complete");
  document.getElementById("transfer-cancel").onclick = () => transferAction("cancel");
  document.getElementById("callback").onclick = async () => {
    try {
      await api("POST", `/api/calls/${attempt}/callback`, {
        in_minutes: Number(document.getElementById("callback-minutes").value), mine: true });
      document.getElementById("disposition").value = "callback_requested";
      flash(t("saved"));
    } catch (err) { flash(said(err), true); }
  };
  document.addEventListener("languagechange", () => { const a = answers(); renderQuestions(); fillAnswers(a); renderTriage(); renderStatus(status);
    if (attempt === null) { previewShown = null; waitingForCall(); renderStatus(status); }
    refreshUnrecorded(); });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.key === "Enter") { e.preventDefault(); save("ready"); return; }
    if (["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName) || e.ctrlKey || e.altKey || e.metaKey) return;
    const key = e.key.toLowerCase();
    if (key === "r" && !document.getElementById("ready").disabled) act("/api/agent/ready");
    else if (key === "p" && !document.getElementById("pause").disabled) act("/api/agent/pause", { reason: "break" });
    else if (key === "h" && !document.getElementById("hangup").disabled) act("/api/agent/hangup");
    else if (key === "e") escalate();
    else if (key === "c" && !document.getElementById("transfer-complete").disabled) transferAction("complete");
    else if (key === "x" && !document.getElementById("transfer-cancel").disabled) transferAction("cancel");
    else if (key === "n" && !document.getElementById("next").hidden && !document.getElementById("next").disabled) act("/api/agent/preview");
    else if (key === "d" && !document.getElementById("preview-row").hidden && !document.getElementById("dial").disabled) act("/api/agent/next");
    else if (key === "s" && !document.getElementById("preview-row").hidden && !document.getElementById("skip").disabled) act("/api/agent/skip");
  });
  live((m) => {
    if (m.type === "agent") renderStatus(m.status);
    else if (m.type === "screen_pop") { attempt = m.attempt; previewShown = null; resetForm(); renderContact(m.contact); renderStatus(status); }
    else if (m.type === "call_ended") {
      if (m.attempt === attempt) flash(t("call_ended"));
      refreshUnrecorded();
    }
    else if (m.type === "transfer") {
      transferStages[m.ticket] = m.stage;
      if (m.ticket === transfer) renderTransfer(m.stage);
    }
  });
})();
