// The admin's page: users and their phones, contact lists (preview, column
// mapping, import report), campaigns and the audit log.
const MODES = ["preview", "progressive", "power", "predictive"];
const FILE_TYPES = {
  csv: "text/csv",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ods: "application/vnd.oasis.opendocument.spreadsheet",
};
let me = null;
let lists = [];
let auditEntries = [];

function when(ms) { return new Date(ms).toLocaleString(lang === "hi" ? "hi-IN" : "en-IN"); }

// ---- users ----
async function refreshUsers() {
  const users = await api("GET", "/api/users");
  document.getElementById("users").replaceChildren(
    el("tr", {}, ["display_name", "username", "role", "phone_in_use", "state", ""].map((k) => el("th", {}, k ? t(k) : ""))),
    ...users.map((u) => {
      const phone = el("input", { class: "phone", maxlength: 200, value: u.phone || "", placeholder: t("phone_by_rule"), "data-user": u.id });
      return el("tr", { class: "user", "data-username": u.username },
        el("td", { translate: "no" }, u.display_name), el("td", { translate: "no" }, u.username), el("td", {}, t("role_" + u.role)),
        el("td", {}, el("div", { class: "muted phone-in-use", translate: u.phone_in_use ? "no" : null }, u.phone_in_use || t("none")),
          u.role === "admin" ? null : el("div", { class: "row" }, phone,
            el("button", { type: "button", class: "secondary set-phone", onclick: (e) => once(e.target, () => setPhone(u, phone.value)) }, t("save")))),
        el("td", { class: u.disabled ? "urgent" : "" }, t(u.disabled ? "disabled" : (u.must_change_password ? "must_change" : "active"))),
        el("td", { class: "row" },
          u.id === me.user.id ? el("span", { class: "muted" }, t("you")) :
            el("button", { type: "button", class: u.disabled ? "secondary enable" : "danger disable",
              onclick: (e) => once(e.target, () => setDisabled(u, !u.disabled)) }, t(u.disabled ? "enable" : "disable")),
          u.id === me.user.id ? null :
            el("button", { type: "button", class: "secondary reset", onclick: (e) => once(e.target, () => resetPassword(u)) }, t("reset_password"))));
    }));
}

async function setDisabled(u, disabled) {
  if (disabled && !confirm(t("disable_confirm").replace("{name}", u.display_name))) return;
  await api("POST", `/api/users/${u.id}/${disabled ? "disable" : "enable"}`);
  flash(t(disabled ? "user_disabled" : "user_enabled").replace("{name}", u.display_name));
  await refreshUsers();
  refreshAudit();
}

async function resetPassword(u) {
  if (!confirm(t("reset_confirm").replace("{name}", u.display_name))) return;
  const r = await api("POST", `/api/users/${u.id}/password`);
  showOneTime(u.display_name, r.user.username, r.one_time_password);
  await refreshUsers();
  refreshAudit();
}

async function setPhone(u, value) {
  await api("POST", `/api/users/${u.id}/phone`, { phone: value.trim() || null });
  flash(t("phone_saved").replace("{name}", u.display_name));
  await refreshUsers();
  refreshAudit();
}

// A password an admin hands over, shown once with whose it is.
function showOneTime(name, username, password) {
  const box = document.getElementById("one-time");
  box.hidden = false;
  box.replaceChildren(
    el("strong", {}, t("one_time_for").replace("{name}", name).replace("{username}", username)), " ",
    el("code", { id: "one-time-password", translate: "no" }, password), " ",
    el("span", { class: "muted" }, t("one_time_why")), " ",
    el("button", { type: "button", class: "secondary", onclick: () => { box.hidden = true; box.replaceChildren(); } }, t("dismiss")));
}

document.getElementById("user-form").addEventListener("submit", (e) => {
  e.preventDefault();
  once(document.getElementById("create-user"), createUser);
});

async function createUser() {
  const phone = document.getElementById("new-phone").value.trim();
  // No password given: the server makes a one-time one, changed at the first login.
  const u = await api("POST", "/api/users", {
    username: document.getElementById("new-username").value.trim(),
    display_name: document.getElementById("new-display-name").value.trim(),
    role: document.getElementById("new-role").value,
    phone: phone || null,
  });
  showOneTime(u.display_name, u.username, u.one_time_password);
  document.getElementById("user-form").reset();
  await refreshUsers();
  refreshAudit();
}

// ---- contact lists ----
async function refreshLists() {
  lists = await api("GET", "/api/lists");
  document.getElementById("lists").replaceChildren(
    el("tr", {}, el("th", {}, t("list_name")), el("th", {}, t("contacts")), el("th", {}, t("created"))),
    ...lists.map((l) => el("tr", { class: "list" }, el("td", { translate: "no" }, l.name), el("td", {}, l.contacts), el("td", { class: "muted" }, when(l.created_at)))));
  const box = document.getElementById("campaign-lists");
  const legend = box.querySelector("legend");
  box.replaceChildren(legend, ...lists.map((l) => el("label", {}, el("input", { type: "checkbox", name: "campaign-list", value: l.name }), " ", el("span", { translate: "no" }, l.name))));
}

let previewed = null; // { file, type, choice }

function fileType(file) {
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return FILE_TYPES[ext];
}

async function sendFile(path, file, type) {
  const response = await fetch(path, { method: "POST", credentials: "same-origin", headers: { "Content-Type": type }, body: file });
  if (response.status === 401) { location.href = "/"; throw new Error("not logged in"); }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && data.message) || response.statusText);
    error.code = data && data.code;
    throw error;
  }
  return data;
}

function query(choice) {
  const q = new URLSearchParams();
  for (const [field, header] of Object.entries(choice)) if (header) q.set(field, header);
  const s = q.toString();
  return s ? "?" + s : "";
}

document.getElementById("upload-form").addEventListener("submit", (e) => {
  e.preventDefault();
  once(document.getElementById("preview-list"), startPreview);
});

async function startPreview() {
  const file = document.getElementById("list-file").files[0];
  document.getElementById("report").hidden = true;
  if (!file) { flash(t("choose_file"), true); return; }
  const type = fileType(file);
  if (!type) { flash(t("file_kind"), true); return; }
  previewed = { file, type, choice: {} };
  await showPreview();
}

async function showPreview() {
  const p = await sendFile("/api/lists/preview" + query(previewed.choice), previewed.file, previewed.type);
  document.getElementById("preview").hidden = false;
  const problem = document.getElementById("preview-problem");
  problem.hidden = !p.problem;
  problem.textContent = p.problem ? `${t("cannot_import")} ${p.problem}` : "";
  document.getElementById("import-list").disabled = !!p.problem;
  document.getElementById("mapping").replaceChildren(...p.columns.map((c) => {
    const select = el("select", { "data-field": c.field, onchange: (e) => { previewed.choice[c.field] = e.target.value; once(e.target, showPreview); } },
      el("option", { value: "" }, t("not_in_file")),
      p.headers.filter((h) => h).map((h) => el("option", { value: h, selected: h === c.header, translate: "no" }, h)));
    return el("label", { class: "card" }, el("div", { class: "muted" }, t("field_" + c.field)), select);
  }));
  document.getElementById("preview-rows").replaceChildren(
    el("tr", { translate: "no" }, p.headers.map((h) => el("th", {}, h))),
    ...p.rows.map((r) => el("tr", { translate: "no" }, r.map((v) => el("td", {}, v)))));
}

document.getElementById("import-list").addEventListener("click", (e) => once(e.target, importList));

let lastReport = null;

async function importList() {
  const name = document.getElementById("list-name").value.trim();
  if (!name) { flash(t("list_name_needed"), true); return; }
  const r = await sendFile(`/api/lists/${encodeURIComponent(name)}/contacts${query(previewed.choice)}`, previewed.file, previewed.type);
  document.getElementById("preview").hidden = true;
  lastReport = r;
  renderReport(r);
  await refreshLists();
  refreshAudit();
}

// The import's report: counts, the words to map, and each row not imported by line.
function renderReport(r) {
  const report = document.getElementById("report");
  report.hidden = false;
  report.replaceChildren(...[
    el("p", { id: "report-summary", class: "triage" }, t("import_summary")
      .replace("{imported}", r.imported).replace("{duplicate}", r.duplicate).replace("{dnc}", r.do_not_call)
      .replace("{invalid}", r.invalid).replace("{blank}", r.blank)),
    r.unknown_words.length ? el("div", {}, el("h3", {}, t("unknown_words")),
      el("p", { class: "muted" }, t("unknown_words_why")),
      el("table", { id: "unknown-words" }, r.unknown_words.map((w) => el("tr", {},
        el("td", {}, t("field_" + w.field)), el("td", { translate: "no" }, w.word), el("td", {}, `${w.rows} ${t("rows")}`), el("td", {}, el("code", { translate: "no" }, w.mapping_line)))))) : null,
    r.problems.length ? el("div", {}, el("h3", {}, t("rows_not_imported")),
      el("table", { id: "problems" },
        el("tr", {}, el("th", {}, t("line")), el("th", {}, t("why_not")), el("th", {}, t("field")), el("th", {}, t("problem_reason"))),
        r.problems.map((p) => el("tr", { class: "problem" }, el("td", {}, p.line), el("td", {}, t("skip_" + p.kind)),
          el("td", {}, t("field_" + p.field)), el("td", { translate: "no" }, p.reason))))) : null].filter(Boolean));
}

// ---- campaigns ----
async function refreshCampaigns() {
  const campaigns = await api("GET", "/api/campaigns");
  const names = new Map(lists.map((l) => [l.id, l.name]));
  document.getElementById("campaigns").replaceChildren(
    el("tr", {}, ["campaign_name", "state", "mode", "lists", ""].map((k) => el("th", {}, k && t(k)))),
    ...campaigns.map((c) => el("tr", { class: "campaign" }, el("td", { translate: "no" }, c.name), el("td", {}, t("campaign_" + c.state)),
      el("td", {}, t("mode_" + c.pacing.mode)), el("td", { translate: "no" }, c.lists.map((id) => names.get(id) || `#${id}`).join(", ")),
      el("td", {}, el("button", { type: "button", class: "secondary", "data-campaign": c.id, onclick: (e) => once(e.currentTarget, () => editCampaign(c.id)) }, t("edit"))))));
}

// The campaign being edited: its detail as the server sent it.
let editing = null;
async function editCampaign(id) {
  editing = await api("GET", `/api/campaigns/${id}`);
  const s = editing.settings;
  const hours = s.contacts.window;
  const always = hours === "24x7";
  document.getElementById("edit-name").textContent = editing.name;
  fillEditModes(editing.pacing.mode);
  document.getElementById("edit-always").checked = always;
  document.getElementById("edit-start").value = always ? "08:00" : hours.start.slice(0, 5);
  document.getElementById("edit-end").value = always ? "21:00" : hours.end.slice(0, 5);
  document.getElementById("edit-per-day").value = s.contacts.retry.max_per_day;
  document.getElementById("edit-total").value = s.contacts.retry.max_total;
  document.getElementById("edit-no-answer").value = Math.round(s.contacts.retry.no_answer / 60);
  document.getElementById("edit-alert").value = s.contacts.unreachable_alert_after;
  document.getElementById("edit-questionnaire").textContent = s.questionnaire || "—";
  const others = lists.filter((l) => !editing.lists.includes(l.id));
  document.getElementById("attach-list").replaceChildren(el("option", { value: "" }, "—"),
    ...others.map((l) => el("option", { value: l.name, translate: "no" }, l.name)));
  showWindow();
  document.getElementById("campaign-edit").hidden = false;
}

function fillEditModes(chosen) {
  document.getElementById("edit-mode").replaceChildren(...MODES.map((m) => el("option", { value: m, selected: m === chosen }, t("mode_" + m))));
}

function showWindow() {
  const always = document.getElementById("edit-always").checked;
  for (const id of ["edit-start", "edit-end"]) document.getElementById(id).disabled = always;
}
document.getElementById("edit-always").addEventListener("change", showWindow);
document.getElementById("cancel-edit").onclick = () => { editing = null; document.getElementById("campaign-edit").hidden = true; };
document.getElementById("campaign-edit").addEventListener("submit", (e) => {
  e.preventDefault();
  once(document.getElementById("save-campaign"), saveCampaign);
});

async function saveCampaign() {
  if (!editing) return;
  const s = structuredClone(editing.settings);
  const value = (id) => document.getElementById(id).value;
  s.dialer.pacing.mode = value("edit-mode");
  s.contacts.window = document.getElementById("edit-always").checked ? "24x7"
    : { start: `${value("edit-start")}:00`, end: `${value("edit-end")}:00` };
  s.contacts.retry.max_per_day = Number(value("edit-per-day"));
  s.contacts.retry.max_total = Number(value("edit-total"));
  s.contacts.retry.no_answer = Number(value("edit-no-answer")) * 60;
  s.contacts.unreachable_alert_after = Number(value("edit-alert"));
  await api("PUT", `/api/campaigns/${editing.id}/settings`, s);
  flash(t("saved"));
  await editCampaign(editing.id);
  await refreshCampaigns();
  refreshAudit();
}

document.getElementById("attach").onclick = (e) => once(e.currentTarget, async () => {
  const list = document.getElementById("attach-list").value;
  if (!editing) return;
  if (!list) { flash(t("choose_a_list"), true); return; }
  await api("POST", `/api/campaigns/${editing.id}/lists`, { list });
  flash(t("list_added").replace("{name}", list));
  await editCampaign(editing.id);
  await refreshCampaigns();
  refreshAudit();
});

document.getElementById("campaign-form").addEventListener("submit", (e) => {
  e.preventDefault();
  once(document.getElementById("create-campaign"), createCampaign);
});

async function createCampaign() {
  const chosen = [...document.querySelectorAll("input[name=campaign-list]:checked")].map((i) => i.value);
  if (!chosen.length) { flash(t("choose_a_list"), true); return; }
  const c = await api("POST", "/api/campaigns", {
    name: document.getElementById("campaign-name").value.trim(),
    lists: chosen,
    settings: { dialer: { pacing: { mode: document.getElementById("campaign-mode").value } } },
  });
  flash(t("campaign_created").replace("{name}", c.name));
  document.getElementById("campaign-form").reset();
  await refreshCampaigns();
  refreshAudit();
}

// ---- audit log ----
async function refreshAudit() {
  auditEntries = await api("GET", "/api/audit?limit=2000");
  const select = document.getElementById("audit-action");
  const current = select.value;
  const actions = [...new Set(auditEntries.map((a) => a.action))].sort();
  select.replaceChildren(el("option", { value: "" }, t("any")), ...actions.map((a) => el("option", { value: a, selected: a === current }, auditLabel(a))));
  renderAudit();
}

function renderAudit() {
  const who = document.getElementById("audit-user").value.trim().toLowerCase();
  const action = document.getElementById("audit-action").value;
  const text = document.getElementById("audit-text").value.trim().toLowerCase();
  const shown = auditEntries.filter((a) => (!who || a.username.toLowerCase().includes(who))
    && (!action || a.action === action)
    && (!text || `${a.subject} ${a.detail}`.toLowerCase().includes(text))).slice(0, 300);
  document.getElementById("audit").replaceChildren(
    el("tr", {}, ["when", "audit_who", "audit_action", "subject", "detail"].map((k) => el("th", {}, t(k)))),
    ...shown.map((a) => el("tr", { class: "audit" }, el("td", { class: "muted" }, when(a.at)), el("td", { translate: "no" }, a.username),
      el("td", {}, auditLabel(a.action)), el("td", { translate: "no" }, a.subject), el("td", { translate: "no" }, a.detail))));
}

// An action in words; one this page does not know yet, as its code.
function auditLabel(action) {
  return LABELS.en["audit_" + action] ? t("audit_" + action) : action.replace(/_/g, " ");
}
["audit-user", "audit-text"].forEach((id) => document.getElementById(id).addEventListener("input", renderAudit));
document.getElementById("audit-action").addEventListener("change", renderAudit);

function fillModes() {
  const select = document.getElementById("campaign-mode");
  const current = select.value || "predictive";
  select.replaceChildren(...MODES.map((m) => el("option", { value: m, selected: m === current }, t("mode_" + m))));
}

async function refreshAll() {
  await refreshUsers();
  await refreshLists();
  await refreshCampaigns();
  await refreshAudit();
}

(async () => {
  me = await startPage(["admin"]);
  if (!me) return;
  fillModes();
  document.addEventListener("languagechange", () => { fillModes(); fillEditModes(document.getElementById("edit-mode").value); if (lastReport) renderReport(lastReport); refreshAll(); });
  await refreshAll();
})();
