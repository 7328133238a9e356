//! Signed checkpoints of the audit log: tamper evidence that does not rest on the database
//! alone.
//!
//! The audit log is a hash chain, so changing a row breaks every hash after it; but whoever
//! can write the database can also rehash the whole chain, or cut rows off its end, and the
//! chain alone would still verify. So at least once a minute the server signs the chain's
//! tip — the newest row's position and hash, and how many rows lead up to it — with an
//! Ed25519 key kept in a file outside the database, and appends the signed checkpoint as a
//! line of JSON to a file meant to be shipped off the host (and to the server's log).
//! Verifying reads the checkpoints with the public key: each names a row that must still be
//! there with the same hash and the same number of rows before it, so a rehashed chain and a
//! cut that reaches back past a checkpoint are both found. What was written after the newest
//! checkpoint, at most one interval of rows, is covered only once the next one is made.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use lots_core::Timestamp;

use crate::store::{AuditTip, Store};

/// One signed checkpoint, as a line of the checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// The newest audit row's position when it was made.
    pub seq: i64,
    /// That row's hash, covering every row before it.
    pub hash: String,
    /// How many rows there were up to and including it.
    pub rows: i64,
    /// When it was made (milliseconds since the Unix epoch).
    pub at: i64,
    /// The signing key's public half (hex): which key to verify with. It says which key
    /// signed, not that the key is to be trusted: verifying takes the key from elsewhere.
    pub key: String,
    /// The Ed25519 signature (hex) of [`Checkpoint::signed_text`].
    pub signature: String,
}

impl Checkpoint {
    /// What the signature covers.
    fn signed_text(seq: i64, hash: &str, rows: i64, at: i64) -> String {
        format!("lots audit checkpoint v1\nseq {seq}\nhash {hash}\nrows {rows}\nat {at}\n")
    }

    /// Signs the tip of the chain.
    pub fn sign(key: &SigningKey, tip: &AuditTip, at: Timestamp) -> Self {
        let at = at.as_millis();
        let text = Self::signed_text(tip.seq, &tip.hash, tip.rows, at);
        Self {
            seq: tip.seq,
            hash: tip.hash.clone(),
            rows: tip.rows,
            at,
            key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(key.sign(text.as_bytes()).to_bytes()),
        }
    }

    /// Whether `key` signed exactly this.
    pub fn is_signed_by(&self, key: &VerifyingKey) -> bool {
        let Ok(bytes) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        let text = Self::signed_text(self.seq, &self.hash, self.rows, self.at);
        key.verify_strict(text.as_bytes(), &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

/// Reads the signing key from `path`, making a new one there (readable by its owner only)
/// when there is none.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_key(text.trim())
            .with_context(|| format!("{} does not hold an audit signing key", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            use rand::Rng as _;
            let key = SigningKey::from_bytes(&rand::rng().random::<[u8; 32]>());
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            writeln!(file, "{}", hex::encode(key.to_bytes()))?;
            file.sync_all()?;
            tracing::info!(
                path = %path.display(),
                public_key = %hex::encode(key.verifying_key().to_bytes()),
                "made a new audit signing key: keep a copy of its public key off this host"
            );
            Ok(key)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn parse_key(hex_text: &str) -> anyhow::Result<SigningKey> {
    let bytes = <[u8; 32]>::try_from(hex::decode(hex_text)?.as_slice())
        .map_err(|_| anyhow::anyhow!("the key must be 32 bytes in hex"))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// A public key given as hex.
pub fn parse_public_key(hex_text: &str) -> anyhow::Result<VerifyingKey> {
    let bytes = <[u8; 32]>::try_from(hex::decode(hex_text.trim())?.as_slice())
        .map_err(|_| anyhow::anyhow!("the public key must be 32 bytes in hex"))?;
    Ok(VerifyingKey::from_bytes(&bytes)?)
}

/// Appends one checkpoint to the file, durably.
pub fn append(path: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    writeln!(file, "{}", serde_json::to_string(checkpoint)?)?;
    file.sync_data()?;
    Ok(())
}

/// Reads a checkpoint file.
pub fn read(path: &Path) -> anyhow::Result<Vec<Checkpoint>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            serde_json::from_str(line).with_context(|| {
                format!(
                    "line {} of {} is not a checkpoint",
                    number + 1,
                    path.display()
                )
            })
        })
        .collect()
}

/// Makes a checkpoint when the chain has grown since `last`; returns the newest.
pub async fn make(
    store: &Store,
    key: &SigningKey,
    file: &Path,
    last: Option<&Checkpoint>,
    at: Timestamp,
) -> anyhow::Result<Option<Checkpoint>> {
    let Some(tip) = store.audit_tip().await? else {
        return Ok(last.cloned());
    };
    if last.is_some_and(|last| last.seq == tip.seq && last.hash == tip.hash) {
        return Ok(last.cloned());
    }
    let checkpoint = Checkpoint::sign(key, &tip, at);
    append(file, &checkpoint)?;
    tracing::info!(
        target: "lots_server::audit_checkpoint",
        checkpoint = %serde_json::to_string(&checkpoint)?,
        "audit checkpoint"
    );
    Ok(Some(checkpoint))
}

/// Checks the database's audit log against signed checkpoints; `Ok` with how many were
/// checked, or what was found wrong.
pub async fn verify(
    store: &Store,
    checkpoints: &[Checkpoint],
    key: &VerifyingKey,
) -> anyhow::Result<usize> {
    if let Some(row) = store.verify_audit_chain().await? {
        bail!("the audit log's hash chain breaks at row {row}");
    }
    for checkpoint in checkpoints {
        let when = checkpoint.at;
        if !checkpoint.is_signed_by(key) {
            bail!(
                "the checkpoint made at {when} (row {}) is not signed by this key",
                checkpoint.seq
            );
        }
        match store.audit_hash_at(checkpoint.seq).await? {
            None => bail!(
                "row {} of the audit log, signed in the checkpoint made at {when}, is gone: the log was cut",
                checkpoint.seq
            ),
            Some(hash) if hash != checkpoint.hash => bail!(
                "row {} of the audit log differs from the checkpoint made at {when}: the chain was rewritten",
                checkpoint.seq
            ),
            Some(_) => {}
        }
        let rows = store.audit_rows_through(checkpoint.seq).await?;
        if rows != checkpoint.rows {
            bail!(
                "the audit log holds {rows} rows up to row {}, the checkpoint made at {when} signed {}: rows were removed",
                checkpoint.seq,
                checkpoint.rows
            );
        }
    }
    Ok(checkpoints.len())
}

/// Where checkpoints go and how often they are made.
#[derive(Debug, Clone)]
pub struct Checkpointing {
    /// The signing key's file.
    pub key_file: PathBuf,
    /// The checkpoint file.
    pub file: PathBuf,
    /// How often.
    pub every: Duration,
}

/// Makes checkpoints for as long as the server runs. At start it first checks the log
/// against the checkpoints already in the file, and says loudly if they disagree (the
/// server still serves: refusing would hide the records, not protect them).
pub async fn run(store: Store, key: SigningKey, checkpointing: Checkpointing) {
    let mut last = match read(&checkpointing.file) {
        Ok(existing) => {
            match verify(&store, &existing, &key.verifying_key()).await {
                Ok(count) => tracing::info!(
                    checkpoints = count,
                    "the audit log matches its signed checkpoints"
                ),
                Err(error) => {
                    tracing::error!(%error, "THE AUDIT LOG DOES NOT MATCH ITS SIGNED CHECKPOINTS")
                }
            }
            existing.last().cloned()
        }
        Err(_) if !checkpointing.file.exists() => None,
        Err(error) => {
            tracing::error!(%error, "cannot read the audit checkpoints");
            None
        }
    };
    let mut ticks = tokio::time::interval(checkpointing.every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Some(previous) = &last
            && let Ok(Some(tip)) = store.audit_tip().await
            && tip.seq < previous.seq
        {
            tracing::error!(
                newest = tip.seq,
                signed = previous.seq,
                "THE AUDIT LOG IS SHORTER THAN ITS LAST SIGNED CHECKPOINT: rows were cut"
            );
        }
        match make(
            &store,
            &key,
            &checkpointing.file,
            last.as_ref(),
            crate::sync::hub::now(),
        )
        .await
        {
            Ok(newest) => last = newest,
            Err(error) => tracing::error!(%error, "cannot make an audit checkpoint"),
        }
    }
}

/// `lots-server verify-audit`: what it found, in a sentence; an error when the log does not
/// match.
pub async fn verify_command(
    store: &Store,
    file: &Path,
    public_key: Option<&str>,
    key_file: &Path,
) -> anyhow::Result<String> {
    let key = match public_key {
        Some(hex_text) => parse_public_key(hex_text)?,
        None => {
            let text = std::fs::read_to_string(key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            parse_key(text.trim())?.verifying_key()
        }
    };
    let checkpoints = read(file)?;
    let count = verify(store, &checkpoints, &key).await?;
    Ok(match checkpoints.last() {
        Some(last) => format!(
            "the audit log matches all {count} signed checkpoints, the newest at row {} (made at {})",
            last.seq, last.at
        ),
        None => "the audit log's chain is whole; there are no checkpoints yet".into(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

    use super::*;

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + minute * 60_000)
    }

    async fn log(store: &Store, from: i64, count: i64) {
        for n in from..from + count {
            store
                .audit_event(at(n), "u-anna", "d-1", "sign-in", &format!("row {n}"))
                .await
                .unwrap();
        }
    }

    /// A log of 20 rows with checkpoints after rows 10 (`a`) and 20 (`b`).
    async fn signed_log() -> (tempfile::TempDir, Store, SigningKey, Checkpoint, Checkpoint) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("lots.sqlite3"))
            .await
            .unwrap();
        let key = load_or_create_key(&dir.path().join("audit-signing.key")).unwrap();
        let file = dir.path().join("checkpoints.jsonl");
        log(&store, 0, 10).await;
        let a = make(&store, &key, &file, None, at(10))
            .await
            .unwrap()
            .unwrap();
        // Nothing new: no second checkpoint of the same tip.
        let same = make(&store, &key, &file, Some(&a), at(11)).await.unwrap();
        assert_eq!(same.as_ref(), Some(&a));
        log(&store, 10, 10).await;
        let b = make(&store, &key, &file, Some(&a), at(20))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read(&file).unwrap(), vec![a.clone(), b.clone()]);
        (dir, store, key, a, b)
    }

    /// Plays someone with write access to the database: the append-only triggers go first.
    async fn tamper(store: &Store, statements: &[&str]) {
        for statement in [
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
        ]
        .iter()
        .chain(statements)
        {
            store.execute_unchecked(statement).await.unwrap();
        }
    }

    #[tokio::test]
    async fn an_untouched_log_matches_its_checkpoints() {
        let (_dir, store, key, a, b) = signed_log().await;
        assert_eq!(
            verify(&store, &[a, b], &key.verifying_key()).await.unwrap(),
            2
        );
        // The same key read again from its file.
        let again = load_or_create_key(&_dir.path().join("audit-signing.key")).unwrap();
        assert_eq!(again.to_bytes(), key.to_bytes());
    }

    #[tokio::test]
    async fn a_rehashed_chain_is_found_though_it_verifies_on_its_own() {
        let (_dir, store, key, a, b) = signed_log().await;
        // The whole log rewritten from the start with its hashes recomputed: every row is
        // put back at its old position with one detail changed.
        tamper(
            &store,
            &[
                "DELETE FROM audit_log",
                "DELETE FROM sqlite_sequence WHERE name = 'audit_log'",
            ],
        )
        .await;
        for n in 0..20 {
            let detail = if n == 3 {
                "row 3, changed".to_owned()
            } else {
                format!("row {n}")
            };
            store
                .audit_event(at(n), "u-anna", "d-1", "sign-in", &detail)
                .await
                .unwrap();
        }
        assert_eq!(
            store.verify_audit_chain().await.unwrap(),
            None,
            "the chain alone verifies"
        );
        let error = verify(&store, &[a, b], &key.verifying_key())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("rewritten"), "{error}");
    }

    #[tokio::test]
    async fn a_cut_reaching_back_past_a_checkpoint_is_found() {
        let (_dir, store, key, a, b) = signed_log().await;
        tamper(
            &store,
            &[&format!("DELETE FROM audit_log WHERE seq > {}", a.seq - 3)],
        )
        .await;
        for checkpoints in [vec![a.clone()], vec![a, b]] {
            let error = verify(&store, &checkpoints, &key.verifying_key())
                .await
                .unwrap_err();
            assert!(error.to_string().contains("cut"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_cut_after_a_checkpoint_is_found_by_the_next_one() {
        let (_dir, store, key, a, b) = signed_log().await;
        tamper(
            &store,
            &[&format!("DELETE FROM audit_log WHERE seq > {}", a.seq)],
        )
        .await;
        // The rows after the newest checkpoint are what a cut can take unseen...
        assert_eq!(
            verify(&store, std::slice::from_ref(&a), &key.verifying_key())
                .await
                .unwrap(),
            1
        );
        // ...until the next checkpoint covers them.
        let error = verify(&store, &[a, b], &key.verifying_key())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("cut"), "{error}");
    }

    #[tokio::test]
    async fn rows_removed_from_the_middle_are_found() {
        let (_dir, store, key, a, b) = signed_log().await;
        // A row taken out and the chain after it rehashed would change b's hash; one taken
        // out with the hashes left alone breaks the chain itself. Both are found.
        tamper(&store, &["DELETE FROM audit_log WHERE seq = 5"]).await;
        let error = verify(&store, &[a, b], &key.verifying_key())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("chain breaks"), "{error}");
    }

    #[tokio::test]
    async fn checkpoints_from_another_key_or_edited_do_not_verify() {
        let (_dir, store, key, a, mut b) = signed_log().await;
        let other = SigningKey::from_bytes(&[7; 32]);
        let error = verify(&store, std::slice::from_ref(&a), &other.verifying_key())
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("not signed by this key"),
            "{error}"
        );
        b.rows -= 1;
        let error = verify(&store, &[a, b], &key.verifying_key())
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("not signed by this key"),
            "{error}"
        );
    }
}
