//! Accounts: the rules a new account and a password meet, and the one way
//! each is made, for the API and the command line alike (hashed password,
//! audited): creating an account, the first administrator of a new
//! centre, changing one's own password, an admin's reset and re-enabling.

use crate::auth::hash_password;
use crate::now_ms;
use sanjeevani_store::{NewUser, Role, Store, StoreError, User};

/// Shortest and longest password (NIST SP 800-63B: length and a blocklist,
/// no composition rules).
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 12..=128;

/// Passwords people pick first; each is refused, as is any password made
/// of one of them repeated or with digits and marks around it
/// (`password1234`, `!admin2026`), or of one repeated character.
const COMMON: [&str; 32] = [
    "password",
    "passw0rd",
    "123456",
    "1234567890",
    "12345678",
    "qwerty",
    "qwertyuiop",
    "abc123",
    "111111",
    "iloveyou",
    "admin",
    "administrator",
    "welcome",
    "letmein",
    "monkey",
    "dragon",
    "sunshine",
    "football",
    "baseball",
    "princess",
    "superman",
    "trustno1",
    "changeme",
    "secret",
    "sanjeevani",
    "hospital",
    "covid",
    "covid19",
    "doctor",
    "supervisor",
    "agent",
    "demo",
];

/// Why a password is refused; the API answers with its code so that each
/// page can say it in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("password: 12 to 128 characters (a few words make a good one)")]
    Length,
    #[error("password: too easy to guess (a common password, a sequence or your username)")]
    Guessable,
}

impl PasswordProblem {
    /// The error code the API answers with.
    pub fn code(self) -> &'static str {
        match self {
            PasswordProblem::Length => "password_length",
            PasswordProblem::Guessable => "password_guessable",
        }
    }
}

/// Why `password` is not acceptable for `username`, if it is not.
pub fn password_problem(password: &str, username: &str) -> Option<PasswordProblem> {
    if !PASSWORD_CHARS.contains(&password.chars().count()) {
        return Some(PasswordProblem::Length);
    }
    let lower = password.to_lowercase();
    let first = lower.chars().next().unwrap_or_default();
    let repeats = |word: &str| {
        !word.is_empty()
            && lower.len() % word.len() == 0
            && lower == word.repeat(lower.len() / word.len())
    };
    let sequence = "01234567890123456789abcdefghijklmnopqrstuvwxyz";
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if lower.chars().all(|c| c == first)
        || COMMON.iter().any(|w| repeats(w) || core == *w)
        || sequence.contains(&lower)
        || (!username.is_empty() && lower.contains(&username.to_lowercase()))
    {
        return Some(PasswordProblem::Guessable);
    }
    None
}

/// An account to create, as a person asks for it.
#[derive(Debug, Clone)]
pub struct AccountRequest {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: String,
    pub phone: Option<String>,
    /// The password was set by someone else (a one-time password an admin
    /// hands over): the person chooses their own at the first login.
    pub must_change_password: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The request breaks a rule; the text names the field.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Password(#[from] PasswordProblem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `request` and creates the account; `by` is who asked (audited),
/// `None` from the command line (the account itself is named).
pub async fn create(
    store: &dyn Store,
    request: AccountRequest,
    by: Option<&User>,
) -> Result<User, AccountError> {
    let invalid = |why: &str| AccountError::Invalid(why.to_string());
    let username_ok = (3..=40).contains(&request.username.len())
        && request
            .username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !username_ok {
        return Err(invalid(
            "username: 3 to 40 letters, digits, '.', '_' or '-'",
        ));
    }
    let role = Role::parse(&request.role).ok_or_else(|| {
        AccountError::Invalid(format!(
            "role: {:?} is not admin, supervisor, agent or medical",
            request.role
        ))
    })?;
    if let Some(problem) = password_problem(&request.password, &request.username) {
        return Err(problem.into());
    }
    let display_name = request.display_name.trim().to_string();
    if display_name.is_empty() || display_name.len() > 100 {
        return Err(invalid("display_name: 1 to 100 characters"));
    }
    if let Some(phone) = &request.phone {
        crate::phones::check_phone(phone)
            .map_err(|why| AccountError::Invalid(format!("phone: {why}")))?;
    }
    let password_hash = hashed(request.password).await?;
    let new = NewUser {
        username: request.username,
        display_name,
        role,
        password_hash,
        must_change_password: request.must_change_password,
    };
    let now = now_ms();
    let id = store.create_user(&new, now).await?;
    if request.phone.is_some() {
        store.set_user_phone(id, request.phone.as_deref()).await?;
    }
    let user = user_by_id(store, id).await?;
    let (actor, detail) = match by {
        Some(by) => (by, format!("{} as {}", new.username, role.name())),
        None => (
            &user,
            format!("{} as {}, from the command line", new.username, role.name()),
        ),
    };
    store
        .audit(actor, "user_create", &format!("user/{id}"), &detail, now)
        .await?;
    Ok(user)
}

async fn hashed(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Invalid(format!("password: not hashed ({e})")))
}

/// A random password of 20 letters and digits (about 119 bits), for the
/// first administrator and an admin's reset.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// On a database with no accounts, creates the administrator `admin` with a
/// one-time password, to be changed at the first login; returns the
/// password (shown once, never logged). `None` when there are accounts.
pub async fn first_admin(store: &dyn Store) -> Result<Option<String>, AccountError> {
    if !store.users().await?.is_empty() {
        return Ok(None);
    }
    let password = one_time_password();
    let new = NewUser {
        username: "admin".into(),
        display_name: "Administrator".into(),
        role: Role::Admin,
        password_hash: hashed(password.clone()).await?,
        must_change_password: true,
    };
    let now = now_ms();
    let id = store.create_user(&new, now).await?;
    let user = user_by_id(store, id).await?;
    store
        .audit(
            &user,
            "user_create",
            &format!("user/{id}"),
            "admin as admin, at the first start",
            now,
        )
        .await?;
    Ok(Some(password))
}

pub async fn user_by_id(store: &dyn Store, id: i64) -> Result<User, AccountError> {
    store
        .users()
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(AccountError::Store(StoreError::NotFound {
            what: "user",
            id: id.to_string(),
        }))
}

/// `user` changes their own password; their other sessions end.
pub async fn change_own(
    store: &dyn Store,
    user: &User,
    new_password: String,
    session: &str,
) -> Result<(), AccountError> {
    if let Some(problem) = password_problem(&new_password, &user.username) {
        return Err(problem.into());
    }
    let hash = hashed(new_password).await?;
    store
        .set_user_password(user.id, &hash, false, Some(session))
        .await?;
    let now = now_ms();
    store
        .audit(
            user,
            "password_change",
            &format!("user/{}", user.id),
            "",
            now,
        )
        .await?;
    Ok(())
}

/// An admin resets `id`'s password to a one-time one, returned to show
/// once; it must be changed at the next login, and every session of the
/// user ends.
pub async fn reset(store: &dyn Store, by: &User, id: i64) -> Result<String, AccountError> {
    let user = user_by_id(store, id).await?;
    let password = one_time_password();
    let hash = hashed(password.clone()).await?;
    store.set_user_password(id, &hash, true, None).await?;
    store
        .audit(
            by,
            "password_reset",
            &format!("user/{id}"),
            &user.username,
            now_ms(),
        )
        .await?;
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guessable_passwords_are_refused() {
        for weak in [
            "12345678",
            "password",
            "123456789012",
            "passwordpassword",
            "aaaaaaaaaaaaaa",
            "Sanjeevani",
            "abcdefghijklmnop",
            "asha.kumari-2026",
            &"x".repeat(129),
            "password1234",
            "!!Admin2026!!",
        ] {
            assert!(password_problem(weak, "asha.kumari").is_some(), "{weak}");
        }
        for fine in [
            "correct horse battery",
            "Monsoon-lanterns-41",
            &"ab9".repeat(42),
        ] {
            assert_eq!(password_problem(fine, "asha.kumari"), None, "{fine}");
        }
    }

    #[test]
    fn one_time_passwords_pass_the_rules_and_differ() {
        let (a, b) = (one_time_password(), one_time_password());
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
        assert_eq!(password_problem(&a, "admin"), None);
    }

    #[test]
    fn the_length_message_states_the_rule() {
        let said = PasswordProblem::Length.to_string();
        let bounds = format!("{} to {}", PASSWORD_CHARS.start(), PASSWORD_CHARS.end());
        assert!(said.contains(&bounds), "{said}");
    }
}
