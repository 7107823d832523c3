//! Accounts: the rules a new account meets and the one way one is made,
//! for the API and the command line alike (hashed password, audited).

use crate::auth::hash_password;
use crate::now_ms;
use sanjeevani_store::{NewUser, Role, Store, StoreError, User};

/// An account to create, as a person asks for it.
#[derive(Debug, Clone)]
pub struct AccountRequest {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: String,
    pub phone: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The request breaks a rule; the text names the field.
    #[error("{0}")]
    Invalid(String),
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
    if request.password.chars().count() < 8 {
        return Err(invalid("password: at least 8 characters"));
    }
    let display_name = request.display_name.trim().to_string();
    if display_name.is_empty() || display_name.len() > 100 {
        return Err(invalid("display_name: 1 to 100 characters"));
    }
    if let Some(phone) = &request.phone {
        crate::phones::check_phone(phone)
            .map_err(|why| AccountError::Invalid(format!("phone: {why}")))?;
    }
    let password = request.password;
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AccountError::Invalid(format!("password: not hashed ({e})")))?;
    let new = NewUser {
        username: request.username,
        display_name,
        role,
        password_hash,
    };
    let now = now_ms();
    let id = store.create_user(&new, now).await?;
    if request.phone.is_some() {
        store.set_user_phone(id, request.phone.as_deref()).await?;
    }
    let user = store
        .users()
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .ok_or(StoreError::NotFound {
            what: "user",
            id: id.to_string(),
        })?;
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
