//! What the app does when the server refuses its changes, as pure functions and types (no
//! browser, no clock): reading why a socket was closed, the documents held back from the
//! server after a refusal (the sync peer's share policy, and what IndexedDB keeps of them),
//! what `/api/quarantine/mine` says became of them, and when to connect again.
//!
//! The server vets every change a device sends (core's `vet_changes`). When it refuses some,
//! it keeps the message's valid changes, puts the refused ones in a quarantine for a
//! supervisor, and closes the socket with code 4003 and the reason
//! `refused <document id> <codes>`. The app then stops offering that document (offering it
//! again would only be refused again, and would stop every other household from syncing),
//! keeps everything written to it on the device, and goes on syncing the others. A
//! supervisor's decision releases it (accepted: it syncs again) or leaves it held for good
//! (rejected: the server will never take those changes).

use std::collections::BTreeMap;

use lots_core::api::Refused;
use lots_core::{ConnectionId, DocumentId, PeerId, SharePolicy};

/// Lots' close code: changes of one document were refused and kept in quarantine.
pub const REFUSED_CHANGE: u16 = 4003;
/// Lots' close code: this device has too many refused changes waiting for a supervisor.
pub const QUARANTINE_FULL: u16 = 4004;
/// Lots' close code: a household this person could read was removed (gallring, or a
/// decision); the app erases its copies (`/api/removed`) and connects again at once.
pub const HOUSEHOLD_REMOVED: u16 = 4005;
/// A policy violation (RFC 6455): among others, a session the server no longer knows.
pub const POLICY_VIOLATION: u16 = 1008;
/// "Try again later": the server is busy, or this device sent over its message rate.
pub const TRY_AGAIN_LATER: u16 = 1013;

/// The pause after the server said it is busy.
pub const BUSY_BACKOFF_MS: u32 = 15_000;
/// The pause after a refusal: the next connection leaves the refused document out, so it
/// may come at once (the server has closed this one only to say which document).
pub const REFUSED_RECONNECT_MS: u32 = 1_000;
/// The pause after the server said this device's quarantine is full: nothing syncs until a
/// supervisor has decided, which takes minutes at best. `/api/quarantine/mine` is asked
/// meanwhile, and a decision connects at once.
pub const QUARANTINE_FULL_BACKOFF_MS: u32 = 10 * 60_000;
/// The longest pause between attempts after failures.
pub const MAX_BACKOFF_MS: u32 = 60_000;

/// Why the server refused a change: the codes of its close reasons (core's `Refusal::code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Signed by someone else, or on another device.
    Signer,
    /// Not signed.
    Unsigned,
    /// Written under an author id (Automerge actor) that belongs to another device.
    Actor,
    /// Signed too far ahead of the server's clock.
    Clock,
    /// Larger than any action writes.
    TooLarge,
    /// Removes recorded entries.
    Deletes,
    /// Replaces an object holding recorded entries.
    Replaces,
    /// Does not fit the household's schema.
    Shape,
    /// Beyond the writer's role (district, assigned staff).
    Role,
    /// Refused before, and held in quarantine for a supervisor's decision.
    Held,
    /// Builds on a refused change.
    Depends,
    /// Does not load.
    Damaged,
}

impl Reason {
    /// Every reason, for the translations' test.
    pub const ALL: [Reason; 12] = [
        Reason::Signer,
        Reason::Unsigned,
        Reason::Actor,
        Reason::Clock,
        Reason::TooLarge,
        Reason::Deletes,
        Reason::Replaces,
        Reason::Shape,
        Reason::Role,
        Reason::Held,
        Reason::Depends,
        Reason::Damaged,
    ];

    /// The server's code, also the end of the translation key `refused-reason-<code>`.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Signer => "signer",
            Reason::Unsigned => "unsigned",
            Reason::Actor => "actor",
            Reason::Clock => "clock",
            Reason::TooLarge => "too-large",
            Reason::Deletes => "deletes",
            Reason::Replaces => "replaces",
            Reason::Shape => "shape",
            Reason::Role => "role",
            Reason::Held => "held",
            Reason::Depends => "depends",
            Reason::Damaged => "damaged",
        }
    }

    /// The reason of a code; `None` for a code this version does not know.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// The reason of a quarantined change from the text the server keeps with it (core's
    /// `Refusal` in English, which `/api/quarantine` shows as `reason`). Core's messages
    /// start the same way for each kind; the test holds this to them. A text of no known
    /// kind is a schema refusal (`Shape`), which has the most wordings.
    pub fn from_server_text(text: &str) -> Self {
        let text = text.trim();
        let starts = |prefix: &str| text.starts_with(prefix);
        if starts("the change is not signed") {
            Reason::Unsigned
        } else if starts("the change is signed by ") {
            Reason::Signer
        } else if starts("the change's author id ") {
            Reason::Actor
        } else if starts("the change is signed ") && text.contains("ahead of the server's clock") {
            Reason::Clock
        } else if starts("the change holds ")
            || (starts("the message is ") && text.contains("over the limit"))
            || (starts("the change is ") && text.contains(" bytes; at most"))
            || text.contains("characters long; at most")
            || (starts("it adds ") && text.contains("entries at once"))
        {
            Reason::TooLarge
        } else if starts("it deletes ") {
            Reason::Deletes
        } else if starts("it replaces ") {
            Reason::Replaces
        } else if starts("it is held in quarantine") {
            Reason::Held
        } else if starts("it depends on the refused change") {
            Reason::Depends
        } else if starts("the change is damaged") {
            Reason::Damaged
        } else if starts("the household's district ")
            || starts("a household you create is assigned to you")
            || starts("only a supervisor ")
            || text.contains(" does not work in district ")
        {
            Reason::Role
        } else {
            Reason::Shape
        }
    }
}

/// How the server closed the socket, as far as the app acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Changes to `document` were refused (4003): hold it back and connect again.
    Refused {
        /// The household document.
        document: DocumentId,
        /// The reasons' codes, as sent (a code this version does not know is kept too).
        codes: Vec<String>,
    },
    /// Too many refused changes of this device are waiting for a supervisor (4004).
    QuarantineFull {
        /// How many, as the server counted them.
        pending: usize,
    },
    /// A household this person could read was removed (4005).
    Removed,
    /// The server is busy, or this device went over its message rate (1013).
    Busy,
    /// A policy violation (1008): perhaps the sign-in ended.
    Policy(String),
    /// Anything else (a network failure, the server restarting, a reason this version does
    /// not read), with the reason given if any.
    Other(String),
}

/// Reads a close event's code and reason.
pub fn classify_close(code: u16, reason: &str) -> Closed {
    match code {
        REFUSED_CHANGE => refused_reason(reason).unwrap_or_else(|| Closed::Other(reason.into())),
        QUARANTINE_FULL => Closed::QuarantineFull {
            pending: reason
                .strip_prefix("quarantine-full ")
                .and_then(|count| count.trim().parse().ok())
                .unwrap_or(0),
        },
        HOUSEHOLD_REMOVED => Closed::Removed,
        TRY_AGAIN_LATER => Closed::Busy,
        POLICY_VIOLATION => Closed::Policy(reason.into()),
        _ => Closed::Other(reason.into()),
    }
}

/// `refused <document id> <code>,<code>…`
fn refused_reason(reason: &str) -> Option<Closed> {
    let mut words = reason.strip_prefix("refused ")?.split_whitespace();
    let document = words.next()?.parse().ok()?;
    let codes = words
        .next()
        .map(|codes| {
            codes
                .split(',')
                .filter(|code| !code.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some(Closed::Refused { document, codes })
}

/// What became of a held-back document's refused changes, as far as the app knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Waiting for a supervisor (or not known yet).
    Waiting,
    /// A supervisor rejected them: the server will never have them, and the document stays
    /// held back so that later edits (built on them) are not refused in turn.
    Rejected,
}

/// A document held back from the server, as IndexedDB keeps it (meta `held-back`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeldBack {
    /// The household document.
    pub document: DocumentId,
    /// Why its changes were refused: the server's codes.
    pub codes: Vec<String>,
    /// When the refusal came (ms since the epoch).
    pub since: i64,
    /// What a supervisor decided.
    pub verdict: Verdict,
}

/// The documents held back from the server: the phone's share policy, so that the sync
/// peer neither offers them nor takes changes to them (it answers as if it did not have
/// them) while everything else syncs as before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldBack {
    held: BTreeMap<DocumentId, HeldBack>,
}

impl HoldBack {
    /// From what IndexedDB kept.
    pub fn from_records(records: Vec<HeldBack>) -> Self {
        Self {
            held: records
                .into_iter()
                .map(|record| (record.document, record))
                .collect(),
        }
    }

    /// What IndexedDB keeps.
    pub fn records(&self) -> Vec<HeldBack> {
        self.held.values().cloned().collect()
    }

    /// Holds `document` back after a refusal for `codes`; `false` if it was held already
    /// (its codes are added to those known).
    pub fn hold(&mut self, document: DocumentId, codes: &[String], since: i64) -> bool {
        match self.held.get_mut(&document) {
            Some(record) => {
                for code in codes {
                    if !record.codes.contains(code) {
                        record.codes.push(code.clone());
                    }
                }
                false
            }
            None => {
                self.held.insert(
                    document,
                    HeldBack {
                        document,
                        codes: codes.to_vec(),
                        since,
                        verdict: Verdict::Waiting,
                    },
                );
                true
            }
        }
    }

    /// Lets `document` sync again (its changes were accepted).
    pub fn release(&mut self, document: &DocumentId) -> Option<HeldBack> {
        self.held.remove(document)
    }

    /// Notes that the changes to `document` were rejected; `true` if that is news.
    pub fn reject(&mut self, document: &DocumentId) -> bool {
        match self.held.get_mut(document) {
            Some(record) if record.verdict != Verdict::Rejected => {
                record.verdict = Verdict::Rejected;
                true
            }
            _ => false,
        }
    }

    /// Whether `document` is held back.
    pub fn is_held(&self, document: &DocumentId) -> bool {
        self.held.contains_key(document)
    }

    /// The record of a held-back document.
    pub fn get(&self, document: &DocumentId) -> Option<&HeldBack> {
        self.held.get(document)
    }

    /// Every held-back document, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &HeldBack> {
        self.held.values()
    }

    /// How many documents are held back.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Whether any is still waiting for a supervisor's decision.
    pub fn any_waiting(&self) -> bool {
        self.held
            .values()
            .any(|record| record.verdict == Verdict::Waiting)
    }
}

impl SharePolicy for HoldBack {
    fn may_read(&self, _: &PeerId, document: &DocumentId) -> bool {
        !self.is_held(document)
    }

    fn may_write(&self, _: &PeerId, document: &DocumentId) -> bool {
        !self.is_held(document)
    }

    fn may_create(&self, _: &PeerId, _: &DocumentId) -> bool {
        true
    }

    fn may_join(&self, _: &PeerId, _: ConnectionId) -> bool {
        true
    }
}

impl Reason {
    /// Why a change the quarantine lists was refused, from the server's words for it.
    pub fn of(row: &Refused) -> Self {
        Self::from_server_text(&row.reason)
    }
}

/// Whether a change the quarantine lists waits for a decision.
pub fn is_pending(row: &Refused) -> bool {
    row.status == "pending"
}

/// What became of a held-back document's refused changes, from this device's quarantine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Some are still waiting for a supervisor.
    Waiting,
    /// Every one was accepted: sync the document again.
    Accepted,
    /// Some were rejected (and none waits).
    Rejected,
    /// The quarantine lists none of them (a sign-in as a new device no longer sees them):
    /// keep holding the document back.
    Unknown,
}

/// What the device's quarantine says of `document`.
pub fn outcome(document: &DocumentId, rows: &[Refused]) -> Outcome {
    let id = document.to_string();
    let mut rows = rows.iter().filter(|row| row.household == id).peekable();
    if rows.peek().is_none() {
        return Outcome::Unknown;
    }
    let (mut waiting, mut rejected) = (false, false);
    for row in rows {
        match row.status.as_str() {
            "accepted" => {}
            "rejected" => rejected = true,
            _ => waiting = true,
        }
    }
    if waiting {
        Outcome::Waiting
    } else if rejected {
        Outcome::Rejected
    } else {
        Outcome::Accepted
    }
}

/// How many refused changes wait for a decision.
pub fn pending_count(rows: &[Refused]) -> usize {
    rows.iter().filter(|row| is_pending(row)).count()
}

/// What to do after the socket closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterClose {
    /// Connect again after `delay_ms`.
    Retry {
        /// The pause.
        delay_ms: u32,
    },
    /// Ask the API whether the sign-in still holds; connect again after the next pause
    /// if it does and `retry`.
    CheckSession {
        /// Whether to connect again if the sign-in holds.
        retry: bool,
    },
}

/// The connection's facts when it closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedConnection {
    /// The socket had opened (one closed before may have been refused for an ended sign-in,
    /// which the browser does not tell apart).
    pub opened: bool,
    /// It lasted long enough for the pauses to start from one second again.
    pub lasted: bool,
    /// A refusal held back a document that was not held before (a refusal of one already
    /// held would be the server's mistake: connecting again at once would only repeat it).
    pub newly_held: bool,
}

/// What to do after a close, and the pause the next failure starts from (`backoff_ms`:
/// the current one, doubled after each failure up to [`MAX_BACKOFF_MS`]).
pub fn after_close(
    closed: &Closed,
    connection: ClosedConnection,
    backoff_ms: u32,
) -> (AfterClose, u32) {
    let mut backoff = if connection.lasted { 1_000 } else { backoff_ms };
    let grow = |backoff: u32| (backoff.saturating_mul(2)).min(MAX_BACKOFF_MS);
    match closed {
        Closed::Refused { .. } if connection.newly_held => (
            AfterClose::Retry {
                delay_ms: REFUSED_RECONNECT_MS,
            },
            backoff,
        ),
        Closed::QuarantineFull { .. } => (
            AfterClose::Retry {
                delay_ms: QUARANTINE_FULL_BACKOFF_MS,
            },
            backoff,
        ),
        // The next connection asks which households were removed (`Engine::refresh_caseload`).
        Closed::Removed => (
            AfterClose::Retry {
                delay_ms: REFUSED_RECONNECT_MS,
            },
            backoff,
        ),
        Closed::Policy(_) => (AfterClose::CheckSession { retry: false }, backoff),
        _ if !connection.opened => (AfterClose::CheckSession { retry: true }, backoff),
        Closed::Busy => {
            backoff = backoff.max(BUSY_BACKOFF_MS);
            (AfterClose::Retry { delay_ms: backoff }, grow(backoff))
        }
        _ => (AfterClose::Retry { delay_ms: backoff }, grow(backoff)),
    }
}

#[cfg(test)]
mod tests;
