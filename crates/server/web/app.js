// Sanjeevani web pages: shared helpers (API calls, labels in Hindi and
// English, the live WebSocket, the simulation banner).
"use strict";

const LABELS = {
  en: {
    title: "Sanjeevani", login: "Log in", logout: "Log out", username: "Username", password: "Password",
    simulated: "SIMULATION — calls are simulated, no real phone is dialled",
    agent_desk: "Agent desk", supervisor: "Supervisor console", medical: "Medical desk",
    campaign: "Campaign", join: "Join", next_contact: "Show the next contact", dial: "Dial", skip: "Skip", before_dial: "Before you dial", ready: "Ready", pause: "Pause", hangup: "Hang up",
    state: "State", waiting_for_call: "Waiting for a call…", contact: "Contact", category: "Category",
    follow_up_day: "Follow-up day", risk: "Risk", history: "Earlier calls", questionnaire: "Questions",
    disposition: "Result", notes: "Notes", save_next: "Save and next", save_pause: "Save and pause",
    escalate: "Escalate to medical wing", reason: "What did they report?", callback: "Call back in (minutes)",
    schedule: "Schedule", yes: "Yes", no: "No", shortcuts: "Keys: R ready · P pause · N next contact · D dial · S skip (preview) · H hang up · E escalate · C hand over · X cancel transfer · Ctrl+Enter save",
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
    admin: "Administration", users: "Users", new_user: "New user", display_name: "Name", role: "Role", role_agent: "agent",
    role_medical: "doctor", role_supervisor: "supervisor", role_admin: "admin", phone_endpoint: "Phone (optional)",
    phone_placeholder: "PJSIP/agent7 or sip:…", phone_in_use: "Phone the PBX calls", phone_by_rule: "by the telephony's rule",
    create_user: "Create", save: "Save",
    new_user_why: "A one-time password is shown once; they choose their own at the first login.", state: "State",
    disabled: "disabled", active: "active", must_change: "to choose a password", you: "you", enable: "Re-enable",
    disable: "Disable", reset_password: "Reset password", disable_confirm: "Disable {name}? Their sessions end at once.",
    reset_confirm: "Reset the password of {name}? Their sessions end at once.", user_disabled: "{name} is disabled",
    user_enabled: "{name} can log in again", phone_saved: "Phone of {name} saved",
    one_time_for: "One-time password for {name} ({username}):",
    one_time_why: "Hand it over in person; it is shown only now and must be changed at the first login.", dismiss: "Dismiss",
    lists: "Contact lists", upload_list: "Upload a list", list_name: "List name", list_file: "File (.csv, .xlsx, .ods)",
    preview: "Preview", which_column: "Which column holds what", first_rows: "First rows", import: "Import", contacts: "Contacts",
    created: "Created", choose_file: "Choose a file first.", file_kind: "A list is a .csv, .xlsx or .ods file.",
    cannot_import: "Cannot be imported as it is:", not_in_file: "— not in the file —", list_name_needed: "Name the list first.",
    import_summary: "Imported {imported}; not imported: {duplicate} duplicates, {dnc} on the do-not-call list, {invalid} with errors, {blank} blank rows.",
    unknown_words: "Words the import does not know",
    unknown_words_why: "Add these lines under [values] in the import mapping, or correct the file.", rows: "rows",
    rows_not_imported: "Rows not imported", line: "Line", why_not: "Why", field: "Field", problem_reason: "Details", skip_invalid: "error",
    skip_duplicate: "duplicate", skip_do_not_call: "do not call", field_phone: "Phone", field_name: "Name",
    field_language: "Language", field_category: "Category", field_risk: "Risk", field_age: "Age", field_comorbidity: "Comorbidity",
    field_follow_up_start: "Follow-up start", field_follow_up_days: "Follow-up days", field_district: "District",
    field_block: "Block", field_timezone: "Time zone", field_row: "Row", campaigns: "Campaigns", new_campaign: "New campaign",
    campaign_name: "Name", create_campaign: "Create", campaign_running: "running", campaign_paused: "paused",
    campaign_stopped: "stopped", choose_a_list: "Choose at least one contact list.", campaign_created: "Campaign {name} created",
    mode_preview: "preview", mode_progressive: "progressive", mode_power: "power", mode_predictive: "predictive",
    mode_vicidial_adapt: "adaptive (VICIdial)", mode_reference: "reference", audit: "Audit log", audit_who: "Who",
    audit_action: "Action", audit_text: "Containing", any: "any", when: "When", subject: "What", detail: "Details",
    audit_user_create: "user created", audit_user_disable: "user disabled", audit_user_enable: "user re-enabled",
    audit_user_phone: "phone set", audit_password_reset: "password reset", audit_password_change: "password changed",
    today: "today", audit_campaign_create: "campaign created", audit_campaign_settings: "campaign settings changed", audit_campaign_attach_list: "list added to a campaign", audit_preview_skipped: "contact skipped in preview",
    edit_campaign: "Edit campaign", edit: "Edit", always_open: "Day and night (24×7)", window_start: "Calls from", window_end: "until",
    max_per_day: "Attempts a day at most", max_total: "Attempts in all at most", retry_no_answer: "Again after no answer (minutes)",
    alert_after: "Alert after failed attempts a day", cancel: "Cancel", add_list: "Add a contact list", add: "Add", list_added: "List {name} added", audit_campaign_state: "campaign started or paused",
    audit_contacts_upload: "list uploaded", audit_export: "report exported", audit_pacing_change: "pacing changed",
    audit_play_recording: "recording played", audit_supervise: "listened in", audit_supervise_stop: "stopped listening",
    audit_ticket_resolve: "ticket resolved", audit_ticket_assign: "ticket taken", audit_ticket_take_over: "ticket taken over",
    audit_triage_override: "danger signs saved without escalation", audit_view_contact: "contact viewed",
    audit_agent_force_pause: "agent paused by a supervisor", audit_agent_force_logout: "agent logged out by a supervisor",
    wrong_role: "This page is not for your role ({role}).", go_to_my_page: "Go to your page", leave_campaign: "Leave the campaign",
    state_logged_out: "logged out", state_paused: "paused", state_ready: "ready", state_reserved: "reserved",
    state_on_call: "on call", "state_in_wrap-up": "in wrap-up", state_in_wrap_up: "in wrap-up",
    after_call_pause: "pauses after this call", after_call_log_out: "logs out after this call",
    after_call_noted: "{name} is on a call: done once it and its wrap-up are over", simulated_agent: "simulated agent",
    running: "running", paused_campaign: "paused", power_ratio: "Power ratio", abandon_cap_pct: "Abandon cap",
    holding_back: "Holding back", restraint_not_running: "the campaign is paused",
    restraint_no_agents: "no agent is ready or on a call", restraint_no_contacts: "every contact due now has been dialled",
    restraint_agent_asks: "preview: a call is placed when an agent asks",
    restraint_line_ceiling: "the lines ceiling (lines per agent × agents) is reached",
    restraint_trunk_calls: "the trunk carries as many calls at once as it may",
    restraint_trunk_rate: "the trunk's calls per second: the next calls wait their turn",
    restraint_inbound_first: "agents are kept free for people calling in",
    restraint_no_free_agent: "progressive: one call per free agent, and none is free",
    restraint_power_ratio: "power: the calls per agent are reached",
    restraint_abandon_risk: "one more call now would risk an abandon above the target", agent: "Agent", in_state: "For",
    talk: "Talking", wrap: "Wrap-up", paused_time: "Paused", force_pause: "Pause", force_logout: "Log out",
    force_logout_confirm: "Log {name} out of the campaign?", chart_empty: "No figures yet", chart_occupancy: "occupancy",
    chart_answer_rate: "answer rate", chart_abandon_rate: "abandon rate (right scale)", daily_report: "Daily report", day: "Day",
    show: "Show", download_csv: "Download CSV", print: "Print", report_dials: "Dials", report_answered: "Answered",
    report_connected: "Connected", report_completed: "Completed", report_abandoned: "Abandoned", report_busy: "Busy",
    report_no_answer: "No answer", report_failed_other: "Other ends", abandon_rate_report: "Abandon rate",
    all_agents: "all agents", unit_s: "s", unit_min: "min", unit_h: "h", forbidden: "You may not do this in your role.",
    conflict: "Not possible right now.", not_found: "Not found.", invalid_request: "Check the form: something is missing or wrong.",
    unavailable: "The service is busy; try again in a moment.",
    disp_well: "well", disp_symptoms_reported: "symptoms reported", disp_escalated: "escalated", disp_callback_requested: "call back", disp_wrong_number: "wrong number", disp_refused: "refused", disp_discharged: "discharged", disp_do_not_call: "do not call",
   outcome_completed: "talked", outcome_abandoned: "abandoned", outcome_busy: "busy", outcome_no_answer: "no answer", outcome_congestion: "network busy", outcome_invalid: "invalid number", outcome_rejected: "rejected", outcome_machine: "answering machine", outcome_interrupted: "interrupted", outcome_withdrawn: "withdrawn (agents left)",
  },
  hi: {
    title: "संजीवनी", login: "लॉग इन", logout: "लॉग आउट", username: "यूज़रनेम", password: "पासवर्ड",
    simulated: "सिमुलेशन — कॉल नकली हैं, कोई असली फ़ोन नहीं लगाया जाता",
    agent_desk: "एजेंट डेस्क", supervisor: "सुपरवाइज़र कंसोल", medical: "मेडिकल डेस्क",
    campaign: "अभियान", join: "जुड़ें", next_contact: "अगला संपर्क देखें", dial: "कॉल करें", skip: "छोड़ें", before_dial: "कॉल से पहले", ready: "तैयार", pause: "विराम", hangup: "कॉल समाप्त",
    state: "स्थिति", waiting_for_call: "कॉल की प्रतीक्षा…", contact: "संपर्क", category: "श्रेणी",
    follow_up_day: "फ़ॉलो-अप दिन", risk: "जोखिम", history: "पिछली कॉल", questionnaire: "प्रश्न",
    disposition: "परिणाम", notes: "टिप्पणी", save_next: "सहेजें और अगली", save_pause: "सहेजें और विराम",
    escalate: "मेडिकल टीम को भेजें", reason: "उन्होंने क्या बताया?", callback: "दोबारा कॉल (मिनट में)",
    schedule: "तय करें", yes: "हाँ", no: "नहीं", shortcuts: "कुंजियाँ: R तैयार · P विराम · N अगला संपर्क · D कॉल · S छोड़ें · H समाप्त · E मेडिकल · C सौंपें · X ट्रांसफ़र रद्द · Ctrl+Enter सहेजें",
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
    admin: "प्रशासन", users: "उपयोगकर्ता", new_user: "नया उपयोगकर्ता", display_name: "नाम", role: "भूमिका", role_agent: "एजेंट",
    role_medical: "डॉक्टर", role_supervisor: "सुपरवाइज़र", role_admin: "प्रशासक", phone_endpoint: "फ़ोन (वैकल्पिक)",
    phone_placeholder: "PJSIP/agent7 या sip:…", phone_in_use: "PBX जिस फ़ोन को कॉल करता है", phone_by_rule: "टेलीफ़ोनी के नियम से",
    create_user: "बनाएँ", save: "सहेजें",
    new_user_why: "एक बार का पासवर्ड केवल एक बार दिखता है; पहले लॉग इन पर वे अपना पासवर्ड चुनते हैं।", state: "स्थिति",
    disabled: "निष्क्रिय", active: "सक्रिय", must_change: "पासवर्ड चुनना बाकी", you: "आप", enable: "फिर से सक्रिय करें",
    disable: "निष्क्रिय करें", reset_password: "पासवर्ड रीसेट करें",
    disable_confirm: "{name} को निष्क्रिय करें? उनके सत्र तुरंत समाप्त होंगे।",
    reset_confirm: "{name} का पासवर्ड रीसेट करें? उनके सत्र तुरंत समाप्त होंगे।", user_disabled: "{name} निष्क्रिय किए गए",
    user_enabled: "{name} फिर से लॉग इन कर सकते हैं", phone_saved: "{name} का फ़ोन सहेजा गया",
    one_time_for: "{name} ({username}) का एक बार का पासवर्ड:",
    one_time_why: "इसे स्वयं सौंपें; यह केवल अभी दिखता है और पहले लॉग इन पर बदलना होगा।", dismiss: "बंद करें",
    lists: "संपर्क सूचियाँ", upload_list: "सूची अपलोड करें", list_name: "सूची का नाम", list_file: "फ़ाइल (.csv, .xlsx, .ods)",
    preview: "पूर्वावलोकन", which_column: "कौन सा कॉलम क्या है", first_rows: "पहली पंक्तियाँ", import: "आयात करें",
    contacts: "संपर्क", created: "बनाई गई", choose_file: "पहले फ़ाइल चुनें।", file_kind: "सूची .csv, .xlsx या .ods फ़ाइल होती है।",
    cannot_import: "जैसी है वैसी आयात नहीं हो सकती:", not_in_file: "— फ़ाइल में नहीं —", list_name_needed: "पहले सूची का नाम दें।",
    import_summary: "आयात हुए {imported}; नहीं हुए: {duplicate} दोहराए गए, {dnc} कॉल-न-करें सूची में, {invalid} त्रुटि वाले, {blank} खाली पंक्तियाँ।",
    unknown_words: "ऐसे शब्द जो आयात नहीं जानता",
    unknown_words_why: "ये पंक्तियाँ आयात मैपिंग में [values] के नीचे जोड़ें, या फ़ाइल सुधारें।", rows: "पंक्तियाँ",
    rows_not_imported: "आयात न हुई पंक्तियाँ", line: "पंक्ति", why_not: "क्यों", field: "फ़ील्ड", problem_reason: "विवरण",
    skip_invalid: "त्रुटि", skip_duplicate: "दोहराव", skip_do_not_call: "कॉल न करें", field_phone: "फ़ोन", field_name: "नाम",
    field_language: "भाषा", field_category: "श्रेणी", field_risk: "जोखिम", field_age: "आयु", field_comorbidity: "सह-रुग्णता",
    field_follow_up_start: "फ़ॉलो-अप आरंभ", field_follow_up_days: "फ़ॉलो-अप दिन", field_district: "ज़िला", field_block: "ब्लॉक",
    field_timezone: "समय क्षेत्र", field_row: "पंक्ति", campaigns: "अभियान", new_campaign: "नया अभियान", campaign_name: "नाम",
    create_campaign: "बनाएँ", campaign_running: "चल रहा", campaign_paused: "रुका हुआ", campaign_stopped: "बंद",
    choose_a_list: "कम से कम एक संपर्क सूची चुनें।", campaign_created: "अभियान {name} बनाया गया", mode_preview: "पूर्वावलोकन",
    mode_progressive: "प्रोग्रेसिव", mode_power: "पावर", mode_predictive: "प्रेडिक्टिव", mode_vicidial_adapt: "अनुकूली (VICIdial)",
    mode_reference: "संदर्भ", audit: "ऑडिट लॉग", audit_who: "किसने", audit_action: "कार्य", audit_text: "जिसमें हो", any: "कोई भी",
    when: "कब", subject: "क्या", detail: "विवरण", audit_user_create: "उपयोगकर्ता बनाया", audit_user_disable: "उपयोगकर्ता निष्क्रिय",
    audit_user_enable: "उपयोगकर्ता फिर सक्रिय", audit_user_phone: "फ़ोन तय किया", audit_password_reset: "पासवर्ड रीसेट",
    audit_password_change: "पासवर्ड बदला", today: "आज", audit_campaign_create: "अभियान बनाया", audit_campaign_settings: "अभियान की सेटिंग बदली", audit_campaign_attach_list: "अभियान में सूची जोड़ी", audit_preview_skipped: "पूर्वावलोकन में संपर्क छोड़ा",
    edit_campaign: "अभियान बदलें", edit: "बदलें", always_open: "दिन-रात (24×7)", window_start: "कॉल का समय", window_end: "तक",
    max_per_day: "एक दिन में अधिकतम प्रयास", max_total: "कुल अधिकतम प्रयास", retry_no_answer: "जवाब न मिलने पर फिर से (मिनट)",
    alert_after: "एक दिन में इतने असफल प्रयासों पर चेतावनी", cancel: "रद्द करें", add_list: "संपर्क सूची जोड़ें", add: "जोड़ें", list_added: "सूची {name} जोड़ी गई", audit_campaign_state: "अभियान शुरू या रोका",
    audit_contacts_upload: "सूची अपलोड", audit_export: "रिपोर्ट निर्यात", audit_pacing_change: "गति बदली",
    audit_play_recording: "रिकॉर्डिंग चलाई", audit_supervise: "कॉल सुनी", audit_supervise_stop: "सुनना रोका",
    audit_ticket_resolve: "टिकट निपटाया", audit_ticket_assign: "टिकट लिया", audit_ticket_take_over: "टिकट अपने पास लिया",
    audit_triage_override: "खतरे के संकेत, मेडिकल को भेजे बिना सहेजा", audit_view_contact: "संपर्क देखा",
    audit_agent_force_pause: "सुपरवाइज़र ने एजेंट को रोका", audit_agent_force_logout: "सुपरवाइज़र ने एजेंट को लॉग आउट किया",
    wrong_role: "यह पेज आपकी भूमिका ({role}) के लिए नहीं है।", go_to_my_page: "अपने पेज पर जाएँ", leave_campaign: "अभियान छोड़ें",
    state_logged_out: "लॉग आउट", state_paused: "विराम", state_ready: "तैयार", state_reserved: "आरक्षित", state_on_call: "कॉल पर",
    "state_in_wrap-up": "कॉल के बाद का काम", state_in_wrap_up: "कॉल के बाद का काम", after_call_pause: "इस कॉल के बाद विराम",
    after_call_log_out: "इस कॉल के बाद लॉग आउट", after_call_noted: "{name} कॉल पर हैं: कॉल और उसके बाद का काम पूरा होते ही",
    simulated_agent: "नकली एजेंट", running: "चल रहा", paused_campaign: "रुका हुआ", power_ratio: "पावर अनुपात",
    abandon_cap: "छोड़ी गई कॉल सीमा", abandon_cap_pct: "छोड़ी गई कॉल सीमा", holding_back: "रुकावट",
    restraint_not_running: "अभियान रुका हुआ है", restraint_no_agents: "कोई एजेंट तैयार या कॉल पर नहीं",
    restraint_no_contacts: "अभी के सभी संपर्कों को कॉल हो चुकी", restraint_agent_asks: "पूर्वावलोकन: एजेंट के कहने पर ही कॉल",
    restraint_line_ceiling: "लाइनों की सीमा (प्रति एजेंट लाइनें × एजेंट) पूरी",
    restraint_trunk_calls: "ट्रंक पर एक साथ जितनी कॉल हो सकती हैं, उतनी चल रही हैं",
    restraint_trunk_rate: "ट्रंक की प्रति सेकंड कॉल सीमा: अगली कॉल अपनी बारी पर",
    restraint_inbound_first: "कॉल करने वालों के लिए एजेंट खाली रखे गए हैं",
    restraint_no_free_agent: "प्रोग्रेसिव: हर खाली एजेंट पर एक कॉल, और कोई खाली नहीं",
    restraint_power_ratio: "पावर: प्रति एजेंट कॉल पूरी",
    restraint_abandon_risk: "अभी एक और कॉल से छोड़ी गई कॉल लक्ष्य से ऊपर जाने का खतरा", agent: "एजेंट", in_state: "कब से",
    talk: "बातचीत", wrap: "कॉल के बाद", paused_time: "विराम", force_pause: "विराम दें", force_logout: "लॉग आउट करें",
    force_logout_confirm: "{name} को अभियान से लॉग आउट करें?", chart_empty: "अभी कोई आँकड़े नहीं", chart_occupancy: "व्यस्तता",
    chart_answer_rate: "उत्तर दर", chart_abandon_rate: "छोड़ी गई कॉल दर (दायाँ पैमाना)", daily_report: "दैनिक रिपोर्ट", day: "दिन",
    show: "दिखाएँ", download_csv: "CSV डाउनलोड करें", print: "प्रिंट करें", report_dials: "डायल", report_answered: "उत्तर मिला",
    report_connected: "जुड़ी", report_completed: "पूरी", report_abandoned: "छोड़ी गई", report_busy: "व्यस्त",
    report_no_answer: "उत्तर नहीं", report_failed_other: "अन्य परिणाम", abandon_rate_report: "छोड़ी गई कॉल दर",
    all_agents: "सभी एजेंट", unit_s: "से.", unit_min: "मि.", unit_h: "घं.", forbidden: "आपकी भूमिका में यह नहीं किया जा सकता।",
    conflict: "अभी यह संभव नहीं है।", not_found: "नहीं मिला।", invalid_request: "फ़ॉर्म जाँचें: कुछ छूटा है या गलत है।",
    unavailable: "सेवा व्यस्त है; थोड़ी देर में फिर कोशिश करें।",
    disp_well: "ठीक", disp_symptoms_reported: "लक्षण बताए", disp_escalated: "मेडिकल को भेजा", disp_callback_requested: "दोबारा कॉल", disp_wrong_number: "गलत नंबर", disp_refused: "मना किया", disp_discharged: "डिस्चार्ज", disp_do_not_call: "कॉल न करें",
   outcome_completed: "बात हुई", outcome_abandoned: "छोड़ी गई", outcome_busy: "व्यस्त", outcome_no_answer: "उत्तर नहीं", outcome_congestion: "नेटवर्क व्यस्त", outcome_invalid: "अमान्य नंबर", outcome_rejected: "अस्वीकार", outcome_machine: "आंसरिंग मशीन", outcome_interrupted: "बाधित", outcome_withdrawn: "वापस लिया (एजेंट चले गए)",
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
  // A notice stays in the language it was given in: cleared rather than left half-translated.
  const box = document.getElementById("flash");
  if (box) { clearTimeout(flash.timer); box.replaceChildren(); box.className = "flash"; }
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
  if (secs < 60) return `${secs} ${t("unit_s")}`;
  if (secs < 3600) return `${Math.floor(secs / 60)} ${t("unit_min")}`;
  return `${(secs / 3600).toFixed(1)} ${t("unit_h")}`;
}

// Codes the server gives many different refusals under: its own words
// say which, and in Hindi they follow the code's sense.
const GENERAL_CODES = ["forbidden", "conflict", "not_found", "invalid_request", "unavailable"];

// The server's reason, in the page's language where the page knows its code.
function said(err) {
  if (!err || !err.code || !LABELS.en[err.code]) return err && err.message;
  if (!GENERAL_CODES.includes(err.code)) return t(err.code);
  return lang === "en" ? err.message : `${t(err.code)} (${err.message})`;
}

// A notice: an error stays until dismissed (a person may be looking away),
// anything else fades after 5 s.
function flash(message, isError) {
  const box = document.getElementById("flash");
  if (!box) return;
  clearTimeout(flash.timer);
  box.className = isError ? "flash error" : "flash";
  box.replaceChildren(el("span", { class: "flash-text" }, message));
  if (isError) {
    box.append(" ", el("button", { type: "button", class: "secondary dismiss", "aria-label": t("dismiss"),
      onclick: () => { box.replaceChildren(); box.className = "flash"; } }, t("dismiss")));
  } else {
    flash.timer = setTimeout(() => { box.replaceChildren(); box.className = "flash"; }, 5000);
  }
}

// One request at a time per button: a double click sends one. An error
// the work does not handle itself is shown until dismissed.
async function once(button, work) {
  if (button.disabled) return;
  button.disabled = true;
  try { await work(); } catch (err) { flash(said(err), true); } finally { button.disabled = false; }
}

// Each role's own page.
const HOME = { agent: "/agent", supervisor: "/supervisor", admin: "/admin", medical: "/medical" };

// Checks the session and the role, fills the header, shows the simulation banner.
// Someone whose role has no business here is told so, with a link to their page.
async function startPage(roles) {
  applyLabels();
  const me = await api("GET", "/api/me");
  // A password set by someone else is changed at the login page first.
  if (me.user.must_change_password) {
    location.href = "/";
    return null;
  }
  if (!roles.includes(me.user.role)) {
    document.querySelector("main").replaceChildren(el("section", { id: "wrong-role", role: "alert" },
      el("p", {}, t("wrong_role").replace("{role}", t("role_" + me.user.role))),
      el("p", {}, el("a", { href: HOME[me.user.role] }, t("go_to_my_page")))));
    document.getElementById("lang").addEventListener("click", toggleLanguage);
    document.getElementById("logout").addEventListener("click", async () => {
      await api("POST", "/api/logout");
      location.href = "/";
    });
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
