// Sanjeevani web pages: shared helpers (API calls, labels in Hindi and
// English, the live WebSocket, the simulation banner).
"use strict";

const LABELS = {
  en: {
    title: "Sanjeevani", login: "Log in", logout: "Log out", username: "Username", password: "Password",
    simulated: "SIMULATION — calls are simulated, no real phone is dialled",
    agent_desk: "Agent desk", supervisor: "Supervisor console", medical: "Medical desk",
    campaign: "Campaign", join: "Join", next_contact: "Next contact", ready: "Ready", pause: "Pause", hangup: "Hang up",
    state: "State", waiting_for_call: "Waiting for a call…", contact: "Contact", category: "Category",
    follow_up_day: "Follow-up day", risk: "Risk", history: "Earlier calls", questionnaire: "Questions",
    disposition: "Result", notes: "Notes", save_next: "Save and next", save_pause: "Save and pause",
    escalate: "Escalate to medical wing", reason: "What did they report?", callback: "Call back in (minutes)",
    schedule: "Schedule", yes: "Yes", no: "No", shortcuts: "Keys: R ready · P pause · N next (preview) · H hang up · E escalate · C hand over · X cancel transfer · Ctrl+Enter save",
    agents: "Agents", calls: "Calls", ringing: "Ringing", waiting: "Waiting", connected: "Connected",
    answer_rate: "Answer rate", abandon: "Abandon rate (rolling)", cap: "cap", occupancy: "Occupancy",
    dial_level: "Dial level", handle_time: "Handle time", pacing: "Pacing", mode: "Mode",
    lines_per_agent: "Lines per agent", abandon_target: "Abandon target", apply: "Apply", start: "Start",
    alerts: "Unreachable high-risk people", tickets: "Open tickets", tickets_by_age: "Open tickets by age",
    overdue: "Overdue", due_in: "due in",
    urgent: "urgent", routine: "routine", resolve: "Resolve", resolution: "Resolution", take: "Take",
    no_tickets: "No open tickets", escalated: "Escalated: ticket", saved: "Saved", chart: "Last hours",
    dials: "Dials", none: "none",
    transfer_ringing: "Calling the medical desk — the caller hears music", transfer_consulting: "A doctor is on the line: brief them, then hand over",
    transfer_free: "You are free: the caller is no longer with you", transfer_back_with_contact: "Back with the caller: tell them a doctor will call back",
    transfer_live: "Handed to the doctor live", transfer_ticket: "Ticket raised: the desk will call back",
    complete_transfer: "Hand over", cancel_transfer: "Cancel transfer",
    at_desk: "At the desk", join_desk: "Join the desk", leave_desk: "Leave the desk", languages: "Languages",
    consulting: "On the line with an agent", done_with_caller: "Done with caller", on_transfer: "on transfer",
    callback_offered: "Call back now", reached: "Reached", not_reached: "Not reached",
    line_down: "Telephony down, dialing paused", line_unreachable: "the PBX or trunk does not answer",
    line_unauthorized: "the PBX refused our user or password (ari_username, ari_password)",
    line_missing_module: "Asterisk runs without a module the dialer needs:",
    listen: "Listen", whisper: "Whisper", barge: "Barge", stop_listening: "Stop",
    supervising: "Listening in", session_ringing: "your phone is ringing", session_live: "on the call",
    recordings: "Recorded calls", play: "Play", no_recordings: "No recorded calls today",
    choose_password: "Choose your own password", new_password: "New password", repeat_password: "New password again",
    choose_password_why: "Your password was set by someone else. Choose one only you know: at least 12 characters; a few words make a good one.",
    change_password: "Change password", passwords_differ: "The two new passwords differ",
    wrong_credentials: "Wrong username or password", rate_limited: "Too many attempts; wait a minute and try again.",
    password_length: "A password has 12 to 128 characters; a few words make a good one.",
    password_guessable: "Too easy to guess: a common password, a sequence or your username. Try a few words.",
    take_over_confirm: "Another member holds this ticket. Take it over? (This is recorded.)",
    held_by_other: "Another member holds this ticket: take it over first.",
    choose_result: "— choose —", urgency: "Urgency", urgency_by_rules: "by the rules",
    result_first: "Choose the result of the call first.",
    answers_missing: "Answer these first:",
    danger_signs: "These answers are a danger sign: escalate the call (E), or say why not.",
    rule_fired: "Rule", override_why: "Not escalating? Say why (the supervisor is told)",
    save_anyway: "Save with this reason", override_needed: "Say why you are not escalating.",
    to_record: "Calls to record", call_ended: "The call has ended: record its result.",
    alert_unreachable_high_risk: "High risk, not reached today", alert_triage_override: "Danger signs saved without escalation",
    with_caller: "On the line with the caller: record what you did", agent_notes: "Agent's notes", choose_action: "— action taken —",
    action_first: "Choose the action taken first.", new_consult: "New consult",
    res_advice_given: "Advice given", res_teleconsultation_done: "Teleconsultation done", res_medicine_delivered: "Medicine delivered",
    res_ambulance_sent: "Ambulance sent", res_admitted: "Admitted", res_no_action_needed: "No action needed", res_unreachable: "Unreachable",
    with_me_live: "with me, live",
    home_isolation: "home isolation", care_centre: "COVID care centre", general_public: "general public",
    age_over_60: "over 60", comorbidity: "comorbidity", pregnant: "pregnant", lives_alone: "lives alone",
    fallback_desk_unavailable: "no doctor free", fallback_contact_hung_up: "caller hung up", fallback_agent_cancelled: "agent cancelled",
    fallback_pbx_error: "telephony error", fallback_interrupted: "interrupted by a restart",
  },
  hi: {
    title: "संजीवनी", login: "लॉग इन", logout: "लॉग आउट", username: "यूज़रनेम", password: "पासवर्ड",
    simulated: "सिमुलेशन — कॉल नकली हैं, कोई असली फ़ोन नहीं लगाया जाता",
    agent_desk: "एजेंट डेस्क", supervisor: "सुपरवाइज़र कंसोल", medical: "मेडिकल डेस्क",
    campaign: "अभियान", join: "जुड़ें", next_contact: "अगला संपर्क", ready: "तैयार", pause: "विराम", hangup: "कॉल समाप्त",
    state: "स्थिति", waiting_for_call: "कॉल की प्रतीक्षा…", contact: "संपर्क", category: "श्रेणी",
    follow_up_day: "फ़ॉलो-अप दिन", risk: "जोखिम", history: "पिछली कॉल", questionnaire: "प्रश्न",
    disposition: "परिणाम", notes: "टिप्पणी", save_next: "सहेजें और अगली", save_pause: "सहेजें और विराम",
    escalate: "मेडिकल टीम को भेजें", reason: "उन्होंने क्या बताया?", callback: "दोबारा कॉल (मिनट में)",
    schedule: "तय करें", yes: "हाँ", no: "नहीं", shortcuts: "कुंजियाँ: R तैयार · P विराम · N अगला · H समाप्त · E मेडिकल · C सौंपें · X ट्रांसफ़र रद्द · Ctrl+Enter सहेजें",
    agents: "एजेंट", calls: "कॉल", ringing: "घंटी बज रही", waiting: "प्रतीक्षा में", connected: "जुड़ी हुई",
    answer_rate: "उत्तर दर", abandon: "छोड़ी गई कॉल दर", cap: "सीमा", occupancy: "व्यस्तता",
    dial_level: "डायल स्तर", handle_time: "औसत बातचीत", pacing: "गति", mode: "मोड",
    lines_per_agent: "प्रति एजेंट लाइनें", abandon_target: "छोड़ी गई कॉल लक्ष्य", apply: "लागू करें", start: "शुरू",
    alerts: "उच्च-जोखिम लोग जिनसे संपर्क नहीं हुआ", tickets: "खुले टिकट", tickets_by_age: "खुले टिकट (आयु)",
    overdue: "समय सीमा पार", due_in: "शेष समय",
    urgent: "अत्यावश्यक", routine: "सामान्य", resolve: "निपटाएँ", resolution: "निपटारा", take: "लें",
    no_tickets: "कोई खुला टिकट नहीं", escalated: "भेजा गया: टिकट", saved: "सहेजा गया", chart: "पिछले घंटे",
    dials: "डायल", none: "कोई नहीं",
    transfer_ringing: "मेडिकल डेस्क को कॉल जा रही है — कॉलर संगीत सुन रहे हैं", transfer_consulting: "डॉक्टर लाइन पर हैं: जानकारी दें, फिर सौंपें",
    transfer_free: "आप खाली हैं: कॉलर अब आपके साथ नहीं हैं", transfer_back_with_contact: "कॉलर के साथ वापस: बताएँ कि डॉक्टर दोबारा कॉल करेंगे",
    transfer_live: "डॉक्टर को सौंप दिया गया", transfer_ticket: "टिकट बना: डेस्क दोबारा कॉल करेगा",
    complete_transfer: "सौंपें", cancel_transfer: "ट्रांसफ़र रद्द करें",
    at_desk: "डेस्क पर", join_desk: "डेस्क से जुड़ें", leave_desk: "डेस्क छोड़ें", languages: "भाषाएँ",
    consulting: "एजेंट के साथ लाइन पर", done_with_caller: "कॉलर से बात पूरी", on_transfer: "ट्रांसफ़र पर",
    callback_offered: "अभी कॉल करें", reached: "बात हुई", not_reached: "बात नहीं हुई",
    line_down: "टेलीफ़ोनी बंद, डायलिंग रुकी", line_unreachable: "PBX या ट्रंक जवाब नहीं दे रहा",
    line_unauthorized: "PBX ने हमारा यूज़र या पासवर्ड अस्वीकार किया (ari_username, ari_password)",
    line_missing_module: "Asterisk में डायलर के लिए ज़रूरी मॉड्यूल नहीं चल रहा:",
    listen: "सुनें", whisper: "फुसफुसाएँ", barge: "बातचीत में जुड़ें", stop_listening: "रोकें",
    supervising: "सुन रहे हैं", session_ringing: "आपका फ़ोन बज रहा है", session_live: "कॉल पर",
    recordings: "रिकॉर्ड की गई कॉल", play: "चलाएँ", no_recordings: "आज कोई रिकॉर्ड की गई कॉल नहीं",
    choose_password: "अपना पासवर्ड चुनें", new_password: "नया पासवर्ड", repeat_password: "नया पासवर्ड दोबारा",
    choose_password_why: "आपका पासवर्ड किसी और ने तय किया था। ऐसा पासवर्ड चुनें जो सिर्फ़ आप जानें: कम से कम 12 अक्षर; कुछ शब्द मिलाकर अच्छा पासवर्ड बनता है।",
    change_password: "पासवर्ड बदलें", passwords_differ: "दोनों नए पासवर्ड अलग हैं",
    wrong_credentials: "यूज़रनेम या पासवर्ड गलत है", rate_limited: "बहुत अधिक प्रयास; एक मिनट रुककर फिर कोशिश करें।",
    password_length: "पासवर्ड में 12 से 128 अक्षर हों; कुछ शब्द मिलाकर अच्छा पासवर्ड बनता है।",
    password_guessable: "यह आसानी से अनुमान लगाया जा सकता है: आम पासवर्ड, क्रम या आपका यूज़रनेम। कुछ शब्द मिलाकर देखें।",
    take_over_confirm: "यह टिकट किसी और सदस्य के पास है। क्या आप इसे ले लेंगे? (यह दर्ज होता है।)",
    held_by_other: "यह टिकट किसी और सदस्य के पास है: पहले इसे अपने पास लें।",
    choose_result: "— चुनें —", urgency: "अत्यावश्यकता", urgency_by_rules: "नियमों के अनुसार",
    result_first: "पहले कॉल का परिणाम चुनें।",
    answers_missing: "पहले इनके उत्तर दें:",
    danger_signs: "ये उत्तर खतरे का संकेत हैं: कॉल मेडिकल को भेजें (E), या बताएँ क्यों नहीं।",
    rule_fired: "नियम", override_why: "मेडिकल को नहीं भेज रहे? कारण बताएँ (सुपरवाइज़र को सूचना जाएगी)",
    save_anyway: "इस कारण के साथ सहेजें", override_needed: "बताएँ कि आप मेडिकल को क्यों नहीं भेज रहे।",
    to_record: "दर्ज करने हैं ये कॉल", call_ended: "कॉल समाप्त: इसका परिणाम दर्ज करें।",
    alert_unreachable_high_risk: "उच्च जोखिम, आज संपर्क नहीं हुआ", alert_triage_override: "खतरे के संकेत, मेडिकल को भेजे बिना सहेजा",
    with_caller: "कॉलर के साथ लाइन पर: आपने क्या किया, दर्ज करें", agent_notes: "एजेंट के नोट्स", choose_action: "— की गई कार्रवाई —",
    action_first: "पहले की गई कार्रवाई चुनें।", new_consult: "नया परामर्श",
    res_advice_given: "सलाह दी", res_teleconsultation_done: "टेली-परामर्श हुआ", res_medicine_delivered: "दवा पहुँचाई",
    res_ambulance_sent: "एम्बुलेंस भेजी", res_admitted: "भर्ती किया", res_no_action_needed: "कार्रवाई की ज़रूरत नहीं", res_unreachable: "संपर्क नहीं हुआ",
    with_me_live: "मेरे साथ, लाइव",
    home_isolation: "होम आइसोलेशन", care_centre: "कोविड केयर सेंटर", general_public: "आम जनता",
    age_over_60: "60 से अधिक आयु", comorbidity: "सह-रुग्णता", pregnant: "गर्भवती", lives_alone: "अकेले रहते हैं",
    fallback_desk_unavailable: "कोई डॉक्टर खाली नहीं", fallback_contact_hung_up: "कॉलर ने फ़ोन रख दिया", fallback_agent_cancelled: "एजेंट ने रद्द किया",
    fallback_pbx_error: "टेलीफ़ोनी त्रुटि", fallback_interrupted: "रीस्टार्ट से बाधित",
  },
};

let lang = localStorage.getItem("lang") || "en";

// Languages a desk member may speak, by code, named in their own script.
const LANGUAGES = [["hi", "हिन्दी"], ["en", "English"], ["bn", "বাংলা"], ["mr", "मराठी"], ["ta", "தமிழ்"],
  ["te", "తెలుగు"], ["gu", "ગુજરાતી"], ["kn", "ಕನ್ನಡ"], ["ml", "മലയാളം"], ["pa", "ਪੰਜਾਬੀ"], ["or", "ଓଡ଼ିଆ"], ["ur", "اردو"]];

function t(key) {
  return (LABELS[lang] && LABELS[lang][key]) || LABELS.en[key] || key;
}

function applyLabels() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-t-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.tPlaceholder); });
}

function toggleLanguage() {
  lang = lang === "en" ? "hi" : "en";
  localStorage.setItem("lang", lang);
  applyLabels();
  document.dispatchEvent(new Event("languagechange"));
}

async function api(method, path, body) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401 && !path.endsWith("/login")) {
    location.href = "/";
    throw new Error("not logged in");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error((data && data.message) || response.statusText);
    error.code = data && data.code;
    throw error;
  }
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    // Through the CSSOM: the Content-Security-Policy refuses style attributes.
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function pct(x) { return (100 * (x || 0)).toFixed(1) + " %"; }

function age(secs) {
  if (secs < 60) return secs + " s";
  if (secs < 3600) return Math.floor(secs / 60) + " min";
  return (secs / 3600).toFixed(1) + " h";
}

function flash(message, isError) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = message;
  box.className = isError ? "flash error" : "flash";
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { box.textContent = ""; box.className = "flash"; }, 5000);
}

// Checks the session and the role, fills the header, shows the simulation banner.
async function startPage(roles) {
  applyLabels();
  const me = await api("GET", "/api/me");
  // A password set by someone else is changed at the login page first.
  if (!roles.includes(me.user.role) || me.user.must_change_password) {
    location.href = "/";
    return null;
  }
  document.getElementById("who").textContent = me.user.display_name;
  document.getElementById("banner").hidden = !me.simulated_telephony;
  document.getElementById("lang").addEventListener("click", toggleLanguage);
  document.getElementById("logout").addEventListener("click", async () => {
    await api("POST", "/api/logout");
    location.href = "/";
  });
  return me;
}

// Opens /ws and reconnects after a pause if it drops.
function live(onMessage) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onmessage = (e) => onMessage(JSON.parse(e.data));
  socket.onclose = () => setTimeout(() => live(onMessage), 2000);
  return socket;
}
