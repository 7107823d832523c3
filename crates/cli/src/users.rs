//! `sanjeevani users add`: creates an account from the command line. The
//! password is read from standard input (or `SANJEEVANI_NEW_PASSWORD`),
//! never from an argument that `ps` shows. `sanjeevani users reset`: a
//! one-time password for an account (say the administrator's, lost), to be
//! changed at the next login. Both are audited.

use crate::StoreArgs;
use anyhow::{bail, Result};
use sanjeevani_server::accounts::{self, AccountError, AccountRequest};
use std::io::BufRead;

#[derive(clap::Subcommand)]
pub enum Users {
    /// Create an account; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, supervisor, agent or medical.
        #[arg(long)]
        role: String,
        /// The name pages show (default: the username).
        #[arg(long)]
        display_name: Option<String>,
        /// The phone their calls reach (PJSIP/agent7, sip:agent7@10.0.0.5);
        /// default: the telephony's rule from the username.
        #[arg(long)]
        phone: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Give an account a one-time password (printed once) and enable it;
    /// its sessions end and it must choose a new password at login.
    Reset {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: Users) -> Result<()> {
    match command {
        Users::Add {
            username,
            role,
            display_name,
            phone,
            store,
        } => {
            let password = match std::env::var("SANJEEVANI_NEW_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    eprintln!("password for {username} (one line on standard input):");
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let store = store.open().await?;
            let request = AccountRequest {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                role,
                password,
                phone,
                must_change_password: false,
            };
            match accounts::create(&*store, request, None).await {
                Ok(user) => {
                    println!(
                        "created {} ({}), user id {}",
                        user.username,
                        user.role.name(),
                        user.id
                    );
                    Ok(())
                }
                Err(AccountError::Invalid(why)) => bail!("{why}"),
                Err(AccountError::Password(problem)) => bail!("{problem}"),
                Err(AccountError::Store(e)) => Err(e.into()),
            }
        }
        Users::Reset { username, store } => {
            let store = store.open().await?;
            let Some(user) = store
                .users()
                .await?
                .into_iter()
                .find(|u| u.username == username)
            else {
                bail!("no account {username:?}");
            };
            let password = accounts::reset(&*store, &user, user.id).await?;
            store.set_user_disabled(user.id, false).await?;
            println!("{username}'s one-time password (change it at the next login): {password}");
            Ok(())
        }
    }
}
