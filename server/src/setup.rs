//! Setting up an installation without demo data: `lots-server` subcommands that create the
//! first administrator, add and rename districts, reset an administrator's password, and
//! link a user to their identity at the organisation's identity provider, on the database the server's own flags name (`--data-dir` or `--database-url`).
//!
//! A password is read from a prompt, or from a file (`--password-file`, for scripted
//! installs); never from the command line, where `ps` and shell history would keep it.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::auth::{check_new_password, hash_password, normalized_username};
use crate::store::{Linked, Role, Store, User};
use crate::sync::hub::now;

/// What `lots-server` does; serving when no command is given.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Serves the app, the API and sync (what `lots-server` does without a command).
    Serve,
    /// Creates an administrator: the first one of a new installation, or another.
    CreateAdmin {
        /// Their username (letters, digits, '.' or '-').
        #[arg(long)]
        username: String,
        /// Their name as others see it.
        #[arg(long)]
        display_name: String,
        /// Read the password from this file's first line instead of a prompt.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Sets a new password for an administrator who lost theirs; their sessions end.
    ResetAdminPassword {
        /// The administrator's username.
        #[arg(long)]
        username: String,
        /// Read the password from this file's first line instead of a prompt.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Links a user to their identity at the organisation's identity provider, so that they
    /// sign in with it (the first administrator too, who then needs no password).
    LinkIdentity {
        /// The user's username.
        #[arg(long)]
        username: String,
        /// The provider's issuer URL, exactly as its ID tokens name it.
        #[arg(long, env = "LOTS_OIDC_ISSUER")]
        issuer: String,
        /// The person's subject at the provider (for Entra ID, the object id).
        #[arg(long)]
        subject: String,
    },
    /// Adds a district.
    AddDistrict {
        /// Its id, as the records name it ("district-norrmalm").
        #[arg(long)]
        id: String,
        /// Its name as people read it ("Norrmalm").
        #[arg(long)]
        name: String,
    },
    /// Writes a consistent copy of the SQLite database to a new file, while the server runs.
    Backup {
        /// The file to write (it must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Replaces the database with a backup, while the server is stopped. The replaced
    /// database is kept beside it; phones send what they recorded since at their next sync.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
    /// Checks the audit log against its signed checkpoints: finds a rewritten chain and rows
    /// cut off back past a checkpoint.
    VerifyAudit {
        /// The checkpoint file (by default the one the server writes).
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// The public key to verify with (hex), from a copy kept off the host; by default the
        /// one of the server's key file.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Renames a district (its id, which the records hold, stays).
    RenameDistrict {
        /// Its id.
        #[arg(long)]
        id: String,
        /// Its new name.
        #[arg(long)]
        name: String,
    },
}

/// Runs a set-up command against `store`; what it did, in a sentence.
pub async fn run(store: &Store, command: Command) -> anyhow::Result<String> {
    match command {
        Command::Serve => bail!("serving is not a set-up command"),
        Command::Restore { .. } => bail!("a restore opens the database itself"),
        Command::VerifyAudit { .. } => bail!("verifying the audit log needs the configuration"),
        Command::Backup { to } => crate::backup::backup(store, &to).await,
        Command::CreateAdmin {
            username,
            display_name,
            password_file,
        } => {
            let username = normalized_username(&username).map_err(anyhow::Error::msg)?;
            let display_name = display_name.trim();
            if display_name.is_empty() || display_name.chars().count() > 100 {
                bail!("the display name must be 1–100 characters");
            }
            if store.user_by_username(&username).await?.is_some() {
                bail!("the username {username:?} is taken");
            }
            let password = new_password(password_file.as_deref())?;
            let user = User {
                id: format!("u-{username}"),
                username: username.clone(),
                display_name: display_name.to_owned(),
                role: Role::Admin,
                districts: Vec::new(),
                disabled: false,
            };
            store
                .add_user(&user, &hash_password(&password)?, now())
                .await?;
            Ok(format!("created the administrator {username}"))
        }
        Command::ResetAdminPassword {
            username,
            password_file,
        } => {
            let username = normalized_username(&username).map_err(anyhow::Error::msg)?;
            let Some((user, _)) = store.user_by_username(&username).await? else {
                bail!("there is no user {username:?}");
            };
            // Staff and supervisors get a new password from an administrator, in the app,
            // where it is audited; this is for the administrator who has no one to ask.
            if user.role != Role::Admin {
                bail!(
                    "{username:?} is not an administrator: an administrator resets their password in the app"
                );
            }
            let password = new_password(password_file.as_deref())?;
            store
                .set_password(&user.id, &hash_password(&password)?)
                .await?;
            Ok(format!(
                "set a new password for {username}; their sessions have ended"
            ))
        }
        Command::LinkIdentity {
            username,
            issuer,
            subject,
        } => {
            let username = normalized_username(&username).map_err(anyhow::Error::msg)?;
            let (issuer, subject) = crate::api::oidc::checked_identity(&issuer, &subject)
                .map_err(anyhow::Error::msg)?;
            let Some((user, _)) = store.user_by_username(&username).await? else {
                bail!("there is no user {username:?}");
            };
            match store
                .link_identity(&user.id, &issuer, &subject, "setup", now())
                .await?
            {
                Linked::Linked => {}
                Linked::NoSuchUser => bail!("there is no user {username:?}"),
                Linked::TakenBy(holder) => {
                    bail!("this identity is linked to {holder} already; nothing was changed")
                }
            }
            store
                .audit_event(
                    now(),
                    "setup",
                    "-",
                    "identity-linked",
                    &format!("{} to issuer {issuer} subject {subject}", user.id),
                )
                .await?;
            Ok(format!(
                "linked {username} to subject {subject} at {issuer}; they sign in with it"
            ))
        }
        Command::AddDistrict { id, name } => {
            let (id, name) = district(&id, &name)?;
            if store
                .districts()
                .await?
                .iter()
                .any(|district| district.id == id)
            {
                bail!("the district {id:?} exists already");
            }
            store.add_district(&id, &name).await?;
            Ok(format!("added the district {id} ({name})"))
        }
        Command::RenameDistrict { id, name } => {
            let (id, name) = district(&id, &name)?;
            if !store.rename_district(&id, &name).await? {
                bail!("there is no district {id:?}");
            }
            Ok(format!("renamed the district {id} to {name}"))
        }
    }
}

/// A district's id and name, checked: the id as the records hold it (`district-` and
/// lower-case letters, digits or '-'), the name 1–100 characters.
pub(crate) fn district(id: &str, name: &str) -> anyhow::Result<(String, String)> {
    let id = id.trim();
    let rest = id.strip_prefix("district-").unwrap_or("");
    if rest.is_empty()
        || id.len() > 64
        || !rest
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        bail!(
            "a district id is \"district-\" and lower-case letters, digits or '-' (\"district-norrmalm\"), at most 64 characters"
        );
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        bail!("a district's name must be 1–100 characters");
    }
    Ok((id.to_owned(), name.to_owned()))
}

/// A new password: the first line of `file`, or typed twice at a prompt.
fn new_password(file: Option<&Path>) -> anyhow::Result<String> {
    let password = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the password file {}", path.display()))?;
            text.lines().next().unwrap_or_default().to_owned()
        }
        None => {
            if !std::io::stdin().is_terminal() {
                bail!(
                    "give the password with --password-file, or run this in a terminal to type it"
                );
            }
            let first = rpassword::prompt_password("New password: ")?;
            let again = rpassword::prompt_password("The same again: ")?;
            if first != again {
                bail!("the two passwords differ; nothing was changed");
            }
            first
        }
    };
    check_new_password(&password).map_err(anyhow::Error::msg)?;
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("lots.sqlite3"))
            .await
            .unwrap();
        (dir, store)
    }

    fn password_file(dir: &tempfile::TempDir, password: &str) -> PathBuf {
        let path = dir.path().join("password");
        std::fs::write(&path, format!("{password}\n")).unwrap();
        path
    }

    #[tokio::test]
    async fn an_installation_starts_with_an_administrator_and_districts() {
        let (dir, store) = store().await;
        let file = password_file(&dir, "ett långt lösenord");
        let create = |username: &str| Command::CreateAdmin {
            username: username.into(),
            display_name: "Första Admin".into(),
            password_file: Some(file.clone()),
        };
        run(&store, create("Admin.Ett")).await.unwrap();
        let (admin, hash) = store.user_by_username("admin.ett").await.unwrap().unwrap();
        assert_eq!(admin.role, Role::Admin);
        assert!(crate::auth::verify_password("ett långt lösenord", &hash));
        let taken = run(&store, create("admin.ett")).await.unwrap_err();
        assert!(taken.to_string().contains("taken"), "{taken}");

        let add = |id: &str, name: &str| Command::AddDistrict {
            id: id.into(),
            name: name.into(),
        };
        run(&store, add("district-sodermalm", "Södermalm"))
            .await
            .unwrap();
        assert!(
            run(&store, add("district-sodermalm", "Igen"))
                .await
                .is_err()
        );
        assert!(run(&store, add("Södermalm", "Södermalm")).await.is_err());
        run(
            &store,
            Command::RenameDistrict {
                id: "district-sodermalm".into(),
                name: "Södermalm och Gamla stan".into(),
            },
        )
        .await
        .unwrap();
        let districts = store.districts().await.unwrap();
        assert_eq!(districts.len(), 1);
        assert_eq!(districts[0].name, "Södermalm och Gamla stan");
    }

    #[tokio::test]
    async fn the_first_administrator_is_linked_to_the_identity_provider() {
        let (dir, store) = store().await;
        let file = password_file(&dir, "ett långt lösenord");
        for username in ["admin", "other"] {
            run(
                &store,
                Command::CreateAdmin {
                    username: username.into(),
                    display_name: "Admin".into(),
                    password_file: Some(file.clone()),
                },
            )
            .await
            .unwrap();
        }
        let link = |username: &str, subject: &str| Command::LinkIdentity {
            username: username.into(),
            issuer: "https://login.example/tenant/v2.0".into(),
            subject: subject.into(),
        };
        run(&store, link("admin", "subject-1")).await.unwrap();
        let linked = store
            .user_by_identity("https://login.example/tenant/v2.0", "subject-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(linked.username, "admin");
        // One identity names one user.
        let taken = run(&store, link("other", "subject-1")).await.unwrap_err();
        assert!(taken.to_string().contains("linked to u-admin"), "{taken}");
        let nobody = run(&store, link("nobody", "subject-2")).await.unwrap_err();
        assert!(nobody.to_string().contains("no user"), "{nobody}");
        assert!(run(&store, link("admin", "")).await.is_err());
        // Linking again replaces the identity the user had.
        run(&store, link("admin", "subject-3")).await.unwrap();
        assert_eq!(
            store.identity_of("u-admin").await.unwrap().unwrap().subject,
            "subject-3"
        );
        assert!(
            store
                .user_by_identity("https://login.example/tenant/v2.0", "subject-1")
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_password_reset_is_for_administrators_and_short_passwords_are_refused() {
        let (dir, store) = store().await;
        let short = password_file(&dir, "kort");
        let refused = run(
            &store,
            Command::CreateAdmin {
                username: "admin".into(),
                display_name: "Admin".into(),
                password_file: Some(short),
            },
        )
        .await
        .unwrap_err();
        assert!(refused.to_string().contains("at least 12"), "{refused}");
        assert!(!store.has_users().await.unwrap());

        let file = password_file(&dir, "det första lösenordet");
        run(
            &store,
            Command::CreateAdmin {
                username: "admin".into(),
                display_name: "Admin".into(),
                password_file: Some(file),
            },
        )
        .await
        .unwrap();
        let staff = User {
            id: "u-anna".into(),
            username: "anna".into(),
            display_name: "Anna".into(),
            role: Role::Staff,
            districts: Vec::new(),
            disabled: false,
        };
        store
            .add_user(
                &staff,
                &hash_password("annas eget lösenord").unwrap(),
                now(),
            )
            .await
            .unwrap();
        let reset = |username: &str, file: PathBuf| Command::ResetAdminPassword {
            username: username.into(),
            password_file: Some(file),
        };
        let new = password_file(&dir, "ett nytt lösenord här");
        let not_admin = run(&store, reset("anna", new.clone())).await.unwrap_err();
        assert!(not_admin.to_string().contains("not an administrator"));
        run(&store, reset("admin", new)).await.unwrap();
        let (_, hash) = store.user_by_username("admin").await.unwrap().unwrap();
        assert!(crate::auth::verify_password("ett nytt lösenord här", &hash));
        let missing = dir.path().join("no-such-file");
        let error = run(&store, reset("admin", missing)).await.unwrap_err();
        assert!(error.to_string().contains("cannot read the password file"));
    }
}
