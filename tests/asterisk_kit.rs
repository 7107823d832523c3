//! The Asterisk kit in `deploy/asterisk/` agrees with itself and with the
//! service's defaults: the ARI user, port and application, the endpoints the
//! adapter dials, the dialplan contexts it continues into, the sounds and
//! music-on-hold class it names, and the modules for every ARI resource it
//! uses. These run everywhere; `tests/asterisk.rs` runs the kit itself in a
//! real Asterisk.

use sanjeevani_ari::rest;
use sanjeevani_server::config::TelephonyConfig;
use std::collections::BTreeMap;

use sanjeevani_asterisk_kit::Conf;

fn load(file: &str) -> Conf {
    Conf::load(file).unwrap()
}

/// Asterisk's extension patterns: `_` then X, Z, N, `[…]` classes, `.` and `!`.
fn matches(pattern: &str, extension: &str) -> bool {
    let Some(pattern) = pattern.strip_prefix('_') else {
        return pattern == extension;
    };
    let mut chars: Vec<char> = extension.chars().collect();
    chars.reverse();
    let mut rest = pattern.chars().peekable();
    while let Some(p) = rest.next() {
        match p {
            '.' => return !chars.is_empty(),
            '!' => return true,
            _ => {}
        }
        let Some(c) = chars.pop() else {
            return false;
        };
        let ok = match p {
            'X' => c.is_ascii_digit(),
            'Z' => ('1'..='9').contains(&c),
            'N' => ('2'..='9').contains(&c),
            '[' => {
                let mut class = Vec::new();
                for q in rest.by_ref() {
                    if q == ']' {
                        break;
                    }
                    class.push(q);
                }
                let mut found = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        found |= (class[i]..=class[i + 2]).contains(&c);
                        i += 3;
                    } else {
                        found |= class[i] == c;
                        i += 1;
                    }
                }
                found
            }
            literal => literal == c,
        };
        if !ok {
            return false;
        }
    }
    chars.is_empty()
}

#[test]
fn the_extension_pattern_matcher_is_asterisks() {
    assert!(matches("_X.", "919876543210"));
    assert!(!matches("_X.", "9"));
    assert!(matches("_[a-zA-Z0-9].", "sanjeevani-n1"));
    assert!(!matches("_[a-z].", "Sanjeevani"));
    assert!(matches("1075", "1075") && !matches("1075", "1076"));
}

#[test]
fn http_and_ari_let_the_default_user_in_on_the_default_port() {
    let defaults = TelephonyConfig::default();
    let http = load("http.conf");
    let general = &http.resolved("general")[0];
    assert_eq!(general.get("enabled"), Some("yes"));
    let port = general.get("bindport").unwrap();
    assert!(
        defaults.ari_url.ends_with(&format!(":{port}")),
        "{} against bindport {port}",
        defaults.ari_url
    );
    let ari = load("ari.conf");
    assert_eq!(ari.resolved("general")[0].get("enabled"), Some("yes"));
    let user = ari.of_type(&defaults.ari_username, "user");
    assert_eq!(user.get("read_only"), Some("no"));
    assert!(user.get("password").is_some_and(|p| !p.is_empty()));
}

#[test]
fn the_endpoints_the_adapter_dials_exist() {
    let defaults = TelephonyConfig::default();
    let pjsip = load("pjsip.conf");
    // PJSIP/{number}@trunk: the trunk endpoint, its AOR and outbound auth.
    let trunk_name = defaults.ari_contact_endpoint.rsplit('@').next().unwrap();
    let trunk = pjsip.of_type(trunk_name, "endpoint");
    pjsip.of_type(trunk.get("aors").unwrap(), "aor");
    let auth = pjsip.of_type(trunk.get("outbound_auth").unwrap(), "auth");
    assert!(auth.get("password").is_some());
    let contexts: Vec<String> = load("extensions.conf")
        .sections()
        .into_iter()
        .map(|s| s.name)
        .collect();
    // The demo's people's phones, named after their logins as the default
    // rules say, each with its auth and AOR and a dialplan context that exists.
    let named =
        |rule: &str, username: &str| rule.replace("{username}", username).replace("PJSIP/", "");
    let phones = [
        named(&defaults.ari_agent_endpoint, "agent1"),
        named(&defaults.ari_agent_endpoint, "agent2"),
        named(&defaults.ari_agent_endpoint, "agent3"),
        named(&defaults.ari_desk_endpoint, "doctor"),
        named(&defaults.ari_supervisor_endpoint, "supervisor"),
    ];
    for (username, _, _) in sanjeevani_server::demo::DEMO_USERS
        .iter()
        .filter(|u| u.0 != "admin")
    {
        assert!(
            phones.iter().any(|p| p == username),
            "a phone for {username}"
        );
    }
    for name in &phones {
        let endpoint = pjsip.of_type(name, "endpoint");
        pjsip.of_type(endpoint.get("auth").unwrap(), "auth");
        pjsip.of_type(endpoint.get("aors").unwrap(), "aor");
        // Audio on the host's own address only.
        assert_eq!(
            endpoint.get("bind_rtp_to_media_address"),
            Some("yes"),
            "{name}"
        );
        assert!(endpoint.get("media_address").is_some(), "{name}");
        let context = endpoint.get("context").unwrap();
        assert!(contexts.iter().any(|c| c == context), "{name}: {context}");
        assert_eq!(
            endpoint.get("set_var"),
            Some("PJSIP_TRANSFER_HANDLING()=ari-only"),
            "{name}: a REFER from the phone goes to the application"
        );
    }
    assert_eq!(trunk.get("bind_rtp_to_media_address"), Some("yes"));
    assert_eq!(trunk.get("send_connected_line"), Some("no"));
    let trunk_context = trunk.get("context").unwrap();
    assert!(contexts.iter().any(|c| c == trunk_context));
}

#[test]
fn the_dialplan_brings_detection_back_to_the_app_and_never_leaves_anyone_in_silence() {
    let defaults = TelephonyConfig::default();
    let dialplan = load("extensions.conf");
    let sections = dialplan.sections();
    let names: Vec<&str> = sections.iter().map(|s| s.name.as_str()).collect();
    // Every Goto/GotoIf target context exists.
    for section in &sections {
        for (key, value) in &section.lines {
            if key != "exten" && key != "same" {
                continue;
            }
            for target in value.split(['(', '?', ':']).skip(1) {
                let parts: Vec<&str> = target.split(',').collect();
                if value.contains("Goto") && parts.len() == 3 && !parts[0].contains('$') {
                    assert!(names.contains(&parts[0]), "{}: {value}", section.name);
                }
            }
        }
    }
    // dialer-amd: an extension for our app, AMD(), then back into Stasis
    // with the result, and the fallback when the app is not there.
    let amd = &dialplan.resolved("dialer-amd")[0];
    let first = amd.get("exten").unwrap();
    let pattern = first.split(',').next().unwrap();
    assert!(matches(pattern, &defaults.ari_app), "{pattern}");
    let steps: Vec<&str> = amd.lines.iter().map(|(_, v)| v.as_str()).collect();
    assert!(steps.iter().any(|s| s.ends_with("AMD()")));
    assert!(steps
        .iter()
        .any(|s| s.contains("Stasis(${EXTEN},amd,${AMDSTATUS},${AMDCAUSE})")));
    assert!(steps.iter().any(|s| s.contains("STASISSTATUS")));
    // The information message the adapter plays is the sound the dialplan plays.
    let sound = defaults.ari_message.strip_prefix("sound:").unwrap();
    let message = &dialplan.resolved("dialer-information-message")[0];
    assert!(message
        .lines
        .iter()
        .any(|(_, v)| v.contains(&format!("Playback({sound})"))));
    let fallback = &dialplan.resolved("dialer-fallback")[0];
    assert!(fallback
        .lines
        .iter()
        .any(|(_, v)| v.contains(&format!("Playback({sound})"))));
}

#[test]
fn music_on_hold_and_modules_cover_what_the_adapter_uses() {
    let defaults = TelephonyConfig::default();
    let moh = load("musiconhold.conf");
    assert!(
        !moh.resolved(&defaults.ari_moh_class).is_empty(),
        "class {}",
        defaults.ari_moh_class
    );
    let modules = load("modules.conf");
    let modules = modules.sections();
    let required: Vec<&str> = modules[0]
        .lines
        .iter()
        .filter(|(k, _)| k == "require")
        .map(|(_, v)| v.as_str())
        .collect();
    // One res_ari_{resource} module per resource the adapter calls.
    let mut resources: BTreeMap<&str, ()> = BTreeMap::new();
    for operation in rest::ALL {
        resources.insert(operation.path.split('/').nth(1).unwrap(), ());
    }
    for resource in resources.keys().chain(&["events"]) {
        let module = format!("res_ari_{resource}.so");
        assert!(required.contains(&module.as_str()), "{module}");
    }
    for module in [
        "app_stasis.so",
        "res_stasis_snoop.so",
        "res_stasis_recording.so",
        "res_stasis_playback.so",
        "bridge_holding.so",
        "app_amd.so",
        "res_musiconhold.so",
        "chan_pjsip.so",
    ] {
        assert!(required.contains(&module), "{module}");
    }
}
