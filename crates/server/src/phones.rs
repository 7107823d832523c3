//! Where a person's phone is: the phone their account names, else the
//! telephony's rule for what the phone is for (an agent's line, a desk
//! member's consults, a supervisor listening in), with `{username}` the
//! login and `{agent}`, `{member}` or `{user}` the user id.

use crate::config::{TelephonyConfig, TelephonyKind};
use sanjeevani_store::User;

/// What a person's phone is called for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneUse {
    /// An agent's line, kept up for the shift.
    Agent,
    /// A medical desk member, consulted on a warm transfer.
    Desk,
    /// A supervisor listening, whispering or barging.
    Supervisor,
}

/// The phone `user`'s calls reach for `purpose`; `None` with simulated
/// telephony, or where the telephony has no such phones (supervision over a
/// plain SIP trunk).
pub fn phone_of(telephony: &TelephonyConfig, user: &User, purpose: PhoneUse) -> Option<String> {
    let rule = match (telephony.kind, purpose) {
        (TelephonyKind::Simulated, _) => return None,
        (TelephonyKind::Sip, PhoneUse::Agent) => &telephony.agent_uri,
        (TelephonyKind::Sip, PhoneUse::Desk) => &telephony.desk_uri,
        (TelephonyKind::Sip, PhoneUse::Supervisor) => return None,
        (TelephonyKind::Ari, PhoneUse::Agent) => &telephony.ari_agent_endpoint,
        (TelephonyKind::Ari, PhoneUse::Desk) => &telephony.ari_desk_endpoint,
        (TelephonyKind::Ari, PhoneUse::Supervisor) => &telephony.ari_supervisor_endpoint,
    };
    if let Some(phone) = &user.phone {
        return Some(phone.clone());
    }
    let id = user.id.to_string();
    Some(
        rule.replace("{username}", &user.username)
            .replace("{agent}", &id)
            .replace("{member}", &id)
            .replace("{user}", &id),
    )
}

/// Checks a phone an administrator gives an account: an Asterisk endpoint
/// (`PJSIP/agent7`, `PJSIP/7001@pbx`) or a SIP URI (`sip:agent7@10.0.0.5`).
pub fn check_phone(phone: &str) -> Result<(), &'static str> {
    if phone.is_empty() || phone.len() > 200 {
        return Err("1 to 200 characters");
    }
    if phone
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "&,;\"'<>".contains(c))
    {
        return Err("no spaces, quotes, '&', ',', ';', '<' or '>'");
    }
    let technology = phone.split_once('/').map(|(t, rest)| (t, !rest.is_empty()));
    let endpoint = matches!(technology, Some((t, true)) if !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric()));
    let sip_uri = phone
        .strip_prefix("sip:")
        .or_else(|| phone.strip_prefix("sips:"))
        .is_some_and(|rest| !rest.is_empty());
    if endpoint || sip_uri {
        Ok(())
    } else {
        Err("an Asterisk endpoint such as PJSIP/agent7, or a SIP URI such as sip:agent7@10.0.0.5")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sanjeevani_store::Role;

    fn user(phone: Option<&str>) -> User {
        User {
            id: 7,
            username: "asha".into(),
            display_name: "Asha".into(),
            role: Role::Agent,
            disabled: false,
            phone: phone.map(str::to_string),
            must_change_password: false,
        }
    }

    #[test]
    fn the_accounts_phone_comes_first_then_the_rule_for_its_use() {
        let ari = TelephonyConfig {
            kind: TelephonyKind::Ari,
            ari_desk_endpoint: "PJSIP/desk{member}".into(),
            ..TelephonyConfig::default()
        };
        assert_eq!(
            phone_of(&ari, &user(None), PhoneUse::Agent).as_deref(),
            Some("PJSIP/asha")
        );
        assert_eq!(
            phone_of(&ari, &user(None), PhoneUse::Desk).as_deref(),
            Some("PJSIP/desk7")
        );
        assert_eq!(
            phone_of(&ari, &user(Some("PJSIP/7001")), PhoneUse::Supervisor).as_deref(),
            Some("PJSIP/7001")
        );
        let sip = TelephonyConfig {
            kind: TelephonyKind::Sip,
            ..TelephonyConfig::default()
        };
        assert_eq!(
            phone_of(&sip, &user(None), PhoneUse::Agent).as_deref(),
            Some("sip:agent7@127.0.0.1:5080")
        );
        assert_eq!(phone_of(&sip, &user(None), PhoneUse::Supervisor), None);
        assert_eq!(
            phone_of(
                &TelephonyConfig::default(),
                &user(Some("PJSIP/x")),
                PhoneUse::Agent
            ),
            None
        );
    }

    #[test]
    fn phones_are_endpoints_or_sip_uris_and_nothing_that_breaks_a_request() {
        for good in [
            "PJSIP/agent7",
            "PJSIP/7001@pbx",
            "sip:agent7@10.0.0.5",
            "SIP/x",
        ] {
            assert_eq!(check_phone(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "agent7",
            "PJSIP/",
            "/agent7",
            "PJSIP/a&app=other",
            "PJSIP/a b",
            "PJSIP/a,b",
            "sip:",
            &"P/".repeat(101),
        ] {
            assert!(check_phone(bad).is_err(), "{bad:?}");
        }
    }
}
