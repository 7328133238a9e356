//! What goes into the client and comes out of it: its events and effects, the status line's
//! facts, and the shapes of a write, of what storage held at start, and of a recovery.

use std::collections::{BTreeMap, BTreeSet};

use lots_core::automerge::{Automerge, ChangeHash};
use lots_core::{DocumentId, Timestamp};

use crate::api::Refused;
use crate::refused::HeldBack;
use crate::replay::Kept;
use crate::storage::Stored;
use crate::unreadable::ServerUnreadable;

#[cfg(doc)]
use super::Client;
/// Whether the socket is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Connected and handshaken.
    Online,
    /// Not connected (or still connecting) since this instant.
    Offline(Timestamp),
    /// The server no longer knows this sign-in (it expired, or the device was removed):
    /// syncing waits until the person signs in again. Nothing on the device is touched.
    SessionEnded,
}

/// What the status line shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The connection.
    pub link: Connection,
    /// Households with changes the server does not have yet (not counting those held back).
    pub waiting: usize,
    /// Households held back from the server after it refused a change to them.
    pub held_back: usize,
    /// Households that cannot be read, on the device or on the server.
    pub unreadable: usize,
    /// Records of what the server did not take, kept until the person dismisses them:
    /// signing out (which clears the device) waits for that too.
    pub kept: usize,
    /// The server refuses this device until a supervisor has looked at its refused
    /// changes: how many it said were waiting.
    pub quarantine_full: Option<usize>,
    /// Fields waiting for a person to choose between values.
    pub conflicts: usize,
    /// Changes being written to the device right now.
    pub saving: usize,
    /// The last thing that went wrong, in words for the person.
    pub problem: Option<String>,
}

impl Status {
    /// Whether everything on the device is on the server and reads: only then does the
    /// status line say "Synced". A household held back or unreadable is not synced, however
    /// quiet the connection is.
    pub fn synced(&self) -> bool {
        self.link == Connection::Online
            && self.waiting == 0
            && self.held_back == 0
            && self.unreadable == 0
            && self.quarantine_full.is_none()
    }
}

/// What the client waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Connect again.
    Retry,
    /// Write the sync states that changed.
    SyncStates,
    /// Tell the views of what happened meanwhile.
    Notify,
    /// Ask what became of refused changes (while any wait, or the quarantine is full).
    Quarantine,
}

/// What happens to the client.
#[derive(Debug)]
pub enum Event {
    /// Connect unless connected (at start, after a sign-in, a decision that unblocks).
    Connect,
    /// Connect at once, not at the next pause: the network is back, or the page in view.
    Reconnect,
    /// The browser says the network is gone.
    Offline,
    /// The socket could not even be made.
    SocketFailed(String),
    /// The socket opened.
    SocketOpened,
    /// A message from the server.
    SocketMessage(Vec<u8>),
    /// The socket closed, with the server's code and reason.
    SocketClosed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// A timer ran out.
    Timer(Timer),
    /// The API said whether this sign-in holds (`None`: it could not be asked).
    SessionChecked {
        /// Signed in still?
        signed_in: Option<bool>,
        /// Connect again if it holds.
        retry: bool,
    },
    /// An API call was refused as unauthorised: the sign-in has ended.
    SessionEnded,
    /// Signed in again after the session ended.
    Resume,
    /// The person changed a household (the change is in its document already).
    LocalChange(DocumentId),
    /// Households of the caseload to fetch from the server if not on the device.
    Want(Vec<DocumentId>),
    /// The caseload as the API listed it.
    CaseloadHeard {
        /// What it listed.
        caseload: Vec<crate::api::HouseholdSummary>,
        /// The households on the device that waited for nothing when it was asked
        /// ([`Client::settled`]).
        settled: BTreeSet<DocumentId>,
    },
    /// What `/api/quarantine/mine` says of this device's refused changes.
    QuarantineHeard(Vec<Refused>),
    /// A write ([`Client::prepare_write`]) reached the device.
    Written(Write),
    /// A write failed: the document stays as it was on the device, and is written again
    /// with the next change.
    WriteFailed {
        /// Whether it held the person's own change.
        dirty: bool,
        /// What went wrong.
        error: String,
    },
    /// Something else of the device's storage failed (a mark, a record).
    StorageFailed(String),
    /// Stored documents loaded in the background show something their summaries did
    /// not: the views are told a moment later, once for many.
    Loaded,
    /// Signed out: nothing more is written, no connection made.
    End,
}

/// What the driver carries out for the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    /// Open the socket to the server.
    OpenSocket,
    /// Send bytes on the socket.
    Send(Vec<u8>),
    /// Close the socket (normal closure, with a reason); its close is not waited for.
    CloseSocket(String),
    /// Drop the socket without waiting for its close.
    DropSocket,
    /// Send [`Event::Timer`] after this long.
    Wait(Timer, u32),
    /// Ask the API whether this sign-in holds; answer with [`Event::SessionChecked`].
    CheckSession {
        /// Connect again if it holds.
        retry: bool,
    },
    /// Write what is new in a document ([`Client::prepare_write`]).
    Persist {
        /// The document.
        document: DocumentId,
        /// It holds the person's own change (marked as waiting for the server).
        dirty: bool,
    },
    /// The server has everything of a document: clear its mark.
    MarkClean(DocumentId),
    /// Write sync states (peer, document, state).
    SaveSyncStates(Vec<(String, DocumentId, Vec<u8>)>),
    /// Keep the held-back documents on the device.
    SaveHeldBack(Vec<HeldBack>),
    /// Keep what the caseload API said it cannot read.
    SaveServerUnreadable(BTreeMap<DocumentId, ServerUnreadable>),
    /// Ask the API for the caseload and the removed households.
    FetchCaseload,
    /// Erase from the device households that left its person's caseload (moved to a
    /// colleague, another district, or nobody), each only if it still waits for nothing.
    EraseLeft(Vec<DocumentId>),
    /// Learn the server's clock.
    FetchClock,
    /// Ask what became of this device's refused changes.
    CheckQuarantine,
    /// Continue a household whose refused changes were rejected from the server's copy.
    Recover {
        /// The household.
        document: DocumentId,
        /// What the quarantine said.
        rows: Vec<Refused>,
    },
    /// Tell the views now (after [`Client::refresh_summaries`]).
    Notify,
}

/// What is new in a document since it was last written, to append (and, past
/// `COMPACT_AFTER_CHUNKS` chunks, the whole document to replace them with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The document.
    pub document: DocumentId,
    /// The changes since the last write.
    pub bytes: Vec<u8>,
    /// The document's heads once written.
    pub heads: Vec<ChangeHash>,
    /// The whole document, when its chunks are to be compacted into one.
    pub full: Option<Vec<u8>>,
    /// It holds the person's own change.
    pub dirty: bool,
}

/// What the device's storage held at start: the documents and their marks, and the
/// records kept beside them.
#[derive(Debug, Default)]
pub struct Startup {
    /// The documents, their marks, sync states and summaries.
    pub stored: Stored,
    /// Documents held back from the server.
    pub held: Vec<HeldBack>,
    /// What the caseload API last said it cannot read.
    pub unreadable_on_server: BTreeMap<DocumentId, ServerUnreadable>,
    /// Records of what the server did not take.
    pub kept: Vec<Kept>,
}

/// What a household whose refused changes were rejected becomes ([`Client::recovery`]).
#[expect(
    clippy::large_enum_variant,
    reason = "made once per rejection, and moved at once"
)]
pub enum Recovery {
    /// Nothing to do now (not held, not here, or not known who signs).
    Nothing,
    /// None of the rejected changes is on this device: it is released as it is.
    NothingToUndo,
    /// Continue from the server's copy (`None`: the household never reached the server),
    /// keeping `records` (every record, the new one last).
    Replace {
        /// Every record of what was not taken.
        records: Vec<Kept>,
        /// The server's copy with the later actions made again.
        doc: Option<Automerge>,
    },
}
