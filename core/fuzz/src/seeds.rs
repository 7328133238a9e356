//! The targets' seed corpora, made by the project itself: the fixture documents, and what
//! phones and the server said to each other in sync sessions recorded on core's in-memory
//! network, over households made through the app's actions and the synthetic generator.
//!
//! Everything here is deterministic (seeded generator, fixed actors and times), so the seeds
//! written today are the seeds written tomorrow. A few of each target's seeds are marked
//! `committed`: those are kept in `core/fuzz/seeds/`; the rest are written under `target/`
//! by `cargo xtask fuzz`.

use std::path::Path;

use lots_core::automerge::{ActorId, Automerge, Change, ChangeHash};
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{
    ActionError, Direction, DocumentId, HouseholdDoc, Input, Interpreter, InterpreterMode,
    MemberId, MemoryNetwork, Message, NoteRef, Role, Signature, Timestamp, Topic, VisitId,
    VisitRecord,
};

use crate::server_peer::frame;
use crate::world::{
    FIXTURE, FOREIGN, HOUSEHOLD, NEW_HOUSEHOLD, PHONE_PEER, SERVER_PEER, anna, date, norr, now,
    world,
};

/// One seed input.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The target it is for.
    pub target: &'static str,
    /// Its file name: what it is.
    pub name: String,
    /// The input.
    pub bytes: Vec<u8>,
    /// Whether it belongs to the small committed corpus.
    pub committed: bool,
}

/// Every seed of every target.
pub fn seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut add = |target, name: String, bytes: Vec<u8>, committed| {
        seeds.push(Seed {
            target,
            name,
            bytes,
            committed,
        });
    };

    for (name, bytes) in fixture_documents() {
        add("document_load", name, bytes, true);
    }

    let sessions = record_sessions();
    // The first message of each kind in each direction is committed.
    let mut kinds_committed: Vec<(bool, &str)> = Vec::new();
    let mut earlier: Vec<Vec<u8>> = Vec::new();
    for session in &sessions {
        // The whole conversation, as the server heard it after the phone joined; a session
        // that continues the one before it starts with that one and a reconnection (an
        // empty message, see `server_peer::frames`).
        let mut to_server: Vec<Vec<u8>> = if session.continues {
            earlier.push(Vec::new());
            std::mem::take(&mut earlier)
        } else {
            Vec::new()
        };
        to_server.extend(
            session
                .messages
                .iter()
                .filter(|message| message.to_server && !is_join(&message.bytes))
                .map(|message| message.bytes.clone()),
        );
        add(
            "server_peer",
            format!("{}.frames", session.name),
            frame(&to_server),
            true,
        );
        earlier = to_server;
        for (index, message) in session.messages.iter().enumerate() {
            let direction = if message.to_server {
                "to-server"
            } else {
                "to-phone"
            };
            let kind = kind(&message.bytes);
            let name = format!("{}-{index:02}-{direction}-{kind}", session.name);
            let first = !kinds_committed.contains(&(message.to_server, kind));
            if first {
                kinds_committed.push((message.to_server, kind));
            }
            add(
                "wire_message",
                format!("{name}.cbor"),
                message.bytes.clone(),
                first,
            );
            if let Ok(Message::Sync { data, .. } | Message::Request { data, .. }) =
                Message::decode(&message.bytes)
            {
                add("wire_message", format!("{name}.sync"), data, false);
            }
        }
        for (name, bytes) in &session.documents {
            add(
                "document_load",
                format!("{}-{name}.automerge", session.name),
                bytes.clone(),
                session.name == "first-sync",
            );
        }
    }

    for (name, bytes, committed) in change_seeds(&sessions) {
        add("vet_change", name, bytes, committed);
    }

    // Structured edits start from bytes the `arbitrary` crate reads; a few seeded ones give
    // the fuzzer somewhere to begin besides nothing.
    let mut generator = Generator::new(7);
    for index in 0..3 {
        let bytes: Vec<u8> = (0..32 * (index + 1))
            .flat_map(|_| generator.random_u64().to_le_bytes())
            .collect();
        add("vet_edits", format!("random-{index}.bin"), bytes, true);
    }
    seeds
}

/// Writes `seeds` (only the committed ones when `committed_only`) into `dir/<target>/`.
/// With `committed_only` each target's folder is emptied first, so it holds exactly them.
pub fn write(seeds: &[Seed], dir: &Path, committed_only: bool) -> std::io::Result<usize> {
    let mut written = 0;
    for target in crate::TARGETS {
        let folder = dir.join(target);
        if committed_only && folder.exists() {
            std::fs::remove_dir_all(&folder)?;
        }
        std::fs::create_dir_all(&folder)?;
        for seed in seeds
            .iter()
            .filter(|seed| seed.target == *target && (seed.committed || !committed_only))
        {
            std::fs::write(folder.join(&seed.name), &seed.bytes)?;
            written += 1;
        }
    }
    Ok(written)
}

/// Every fixture document core keeps (one per released schema version).
fn fixture_documents() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            entry
                .path()
                .extension()
                .is_some_and(|extension| extension == "automerge")
        })
        .filter_map(|entry| {
            let bytes = std::fs::read(entry.path()).ok()?;
            Some((entry.file_name().to_string_lossy().into_owned(), bytes))
        })
        .collect();
    if found.is_empty() {
        found.push(("household-v1.automerge".into(), FIXTURE.to_vec()));
    }
    found.sort();
    found
}

/// One message on the wire.
struct Recorded {
    to_server: bool,
    bytes: Vec<u8>,
}

/// A recorded session: its messages in the order delivered, and documents saved after it.
struct Session {
    name: &'static str,
    /// Whether it continues the session before it, after a reconnection.
    continues: bool,
    messages: Vec<Recorded>,
    documents: Vec<(String, Vec<u8>)>,
    /// The phone's changes to each document, in the order made.
    changes: Vec<(DocumentId, Vec<Change>)>,
}

fn is_join(bytes: &[u8]) -> bool {
    matches!(Message::decode(bytes), Ok(Message::Join { .. }))
}

fn kind(bytes: &[u8]) -> &'static str {
    match Message::decode(bytes) {
        Ok(Message::Join { .. }) => "join",
        Ok(Message::Peer { .. }) => "peer",
        Ok(Message::Leave { .. }) => "leave",
        Ok(Message::Error { .. }) => "error",
        Ok(Message::Request { .. }) => "request",
        Ok(Message::Sync { .. }) => "sync",
        Ok(Message::DocUnavailable { .. }) => "doc-unavailable",
        Ok(Message::Other { .. }) => "other",
        Err(_) => "malformed",
    }
}

/// An instant on the fixture's last day.
fn on_last_day(hour: i64) -> Timestamp {
    Timestamp::start_of(date(2023, 6, 30)).plus_minutes(hour * 60)
}

fn signed(hour: i64) -> Signature {
    let anna = anna();
    Signature::new(anna.staff, anna.device, on_last_day(hour))
}

fn visit_id(id: &str) -> VisitId {
    VisitId::new(id).unwrap_or_else(|error| unreachable!("a valid visit id: {error}"))
}

/// A held visit with everyone present, with an interpreter and a note `notes`.
fn visit_record(doc: &HouseholdDoc<&mut Automerge>, hour: i64, notes: &str) -> VisitRecord {
    let present = doc
        .household()
        .map(|household| household.members.into_keys().collect::<Vec<MemberId>>())
        .unwrap_or_default();
    VisitRecord {
        held_at: on_last_day(hour),
        staff: anna().staff,
        present: present.into_iter().collect(),
        interpreter: Some(Interpreter {
            language: "ti".into(),
            mode: InterpreterMode::InPerson,
        }),
        duration_minutes: 45,
        topics: [Topic::Sfi].into_iter().collect(),
        notes: notes.into(),
    }
}

/// Stops the recording when an action of the app refuses what it was given: the seeds would
/// no longer be what they say.
fn done(result: Result<(), ActionError>) {
    if let Err(error) = result {
        panic!("a recorded session's action was refused: {error}");
    }
}

/// Runs `action` on a phone's copy of `document`, then tells the phone it changed.
fn edit(
    net: &mut MemoryNetwork,
    phone: usize,
    document: DocumentId,
    action: impl FnOnce(&mut HouseholdDoc<&mut Automerge>),
) {
    if let Some(doc) = net.peers[phone].document_mut(&document) {
        action(&mut HouseholdDoc::new(doc));
    }
    net.input(phone, Input::LocalChange { document });
}

/// The delivered messages on `link` from `from` on.
fn delivered(net: &MemoryNetwork, link: usize, from: usize) -> Vec<Recorded> {
    net.delivered[from..]
        .iter()
        .filter(|(on, _, _)| *on == link)
        .map(|(_, direction, bytes)| Recorded {
            to_server: *direction == Direction::ToServer,
            bytes: bytes.clone(),
        })
        .collect()
}

fn changes_since(doc: Option<&Automerge>, heads: &[ChangeHash]) -> Vec<Change> {
    doc.map(|doc| doc.get_changes(heads)).unwrap_or_default()
}

/// Three sessions between the server (holding the fixture household, as the fuzzed server
/// does) and Anna's phones:
///
/// 1. `first-sync`: the phone has recorded a visit on the fixture household, and brings a
///    household it created (made by the synthetic generator).
/// 2. `reconnect`: offline again, the phone corrects the visit's note, the address, records
///    another visit with a long note (a compressed change) and edits the new household's
///    plan notes, then reconnects: several changes to one household in one message.
/// 3. `new-phone`: a new phone of Anna's asks for the fixture household and for one it may
///    not read.
fn record_sessions() -> Vec<Session> {
    let mut sessions = Vec::new();
    let mut net = MemoryNetwork::new();
    net.record_deliveries = true;
    net.now = now();
    let server = net.add_peer(SERVER_PEER, Role::Server);
    let phone = net.add_peer(PHONE_PEER, Role::Client);
    net.peers[server].insert_document(HOUSEHOLD, world().household.clone());

    let mut generator = Generator::new(2026);
    let fixture_heads = world().household.get_heads();
    let Ok(phone_copy) = HouseholdDoc::load(FIXTURE, generator.actor()) else {
        unreachable!("the fixture loads (core's tests say so)");
    };
    net.peers[phone].insert_document(HOUSEHOLD, phone_copy.into_automerge());
    edit(&mut net, phone, HOUSEHOLD, |doc| {
        let record = visit_record(doc, 9, "Vi gick igenom hyresavin tillsammans.");
        done(doc.record_visit(&signed(11), &visit_id("v-fuzz-1"), record));
    });
    let spec = HouseholdSpec {
        district: norr(),
        staff: anna().staff,
        device: anna().device,
        opened_on: date(2023, 5, 2),
        visits: 3,
        today: date(2023, 6, 30),
    };
    if let Ok(new) = generator.household(&spec) {
        net.peers[phone].insert_document(NEW_HOUSEHOLD, new.into_automerge());
        net.peers[phone].mark_dirty(NEW_HOUSEHOLD);
    }
    let link = net.connect(phone, server);
    net.run_until_quiet();
    let documents = [HOUSEHOLD, NEW_HOUSEHOLD]
        .iter()
        .filter_map(|id| Some((id.to_string(), net.peers[server].document(id)?.save())))
        .collect();
    sessions.push(Session {
        name: "first-sync",
        continues: false,
        messages: delivered(&net, link, 0),
        documents,
        changes: vec![
            (
                HOUSEHOLD,
                changes_since(net.peers[phone].document(&HOUSEHOLD), &fixture_heads),
            ),
            (
                NEW_HOUSEHOLD,
                changes_since(net.peers[phone].document(&NEW_HOUSEHOLD), &[]),
            ),
        ],
    });

    let heads = |net: &MemoryNetwork, id| {
        net.peers[phone]
            .document(&id)
            .map(Automerge::get_heads)
            .unwrap_or_default()
    };
    let (household_heads, new_heads) = (heads(&net, HOUSEHOLD), heads(&net, NEW_HOUSEHOLD));
    net.disconnect(link);
    edit(&mut net, phone, HOUSEHOLD, |doc| {
        done(doc.splice_note(
            &signed(13),
            &NoteRef::Visit(visit_id("v-fuzz-1")),
            0,
            2,
            "Ni",
        ));
        done(doc.update_housing(
            &signed(13),
            "Exempelgatan 5",
            "lgh 1201",
            lots_core::HousingForm::MunicipalContract,
        ));
        let long_note = "Familjen berättade om veckan och vi planerade nästa steg. ".repeat(8);
        let record = visit_record(doc, 14, &long_note);
        done(doc.record_visit(&signed(16), &visit_id("v-fuzz-2"), record));
    });
    edit(&mut net, phone, NEW_HOUSEHOLD, |doc| {
        done(doc.splice_note(&signed(17), &NoteRef::Plan, 0, 0, "Mål: arbete. "));
    });
    let from = net.delivered.len();
    net.reconnect(link);
    net.run_until_quiet();
    let saved = |net: &MemoryNetwork, id: DocumentId| {
        let doc = net.peers[server].document(&id)?;
        let before = if id == HOUSEHOLD {
            &household_heads
        } else {
            &new_heads
        };
        // An earlier save followed by an incremental one, as storage appends them.
        let mut bytes = doc.fork_at(before).ok()?.save();
        bytes.extend(doc.save_after(before));
        Some((format!("{id}-incremental"), bytes))
    };
    let documents = [HOUSEHOLD, NEW_HOUSEHOLD]
        .into_iter()
        .filter_map(|id| saved(&net, id))
        .collect();
    sessions.push(Session {
        name: "reconnect",
        continues: true,
        messages: delivered(&net, link, from),
        documents,
        changes: vec![
            (
                HOUSEHOLD,
                changes_since(net.peers[phone].document(&HOUSEHOLD), &household_heads),
            ),
            (
                NEW_HOUSEHOLD,
                changes_since(net.peers[phone].document(&NEW_HOUSEHOLD), &new_heads),
            ),
        ],
    });

    let mut net = MemoryNetwork::new();
    net.record_deliveries = true;
    net.now = now();
    let server = net.add_peer(SERVER_PEER, Role::Server);
    let phone = net.add_peer(PHONE_PEER, Role::Client);
    net.peers[server].insert_document(HOUSEHOLD, world().household.clone());
    let link = net.connect(phone, server);
    net.run_until_quiet();
    net.input(
        phone,
        Input::Want {
            document: HOUSEHOLD,
        },
    );
    net.input(phone, Input::Want { document: FOREIGN });
    net.run_until_quiet();
    sessions.push(Session {
        name: "new-phone",
        continues: false,
        messages: delivered(&net, link, 0),
        documents: Vec::new(),
        changes: Vec::new(),
    });
    sessions
}

/// Change chunks as a phone sends them: the phone's changes to each household from the
/// first on (a change is vetted only with what it depends on), and each change alone.
fn change_seeds(sessions: &[Session]) -> Vec<(String, Vec<u8>, bool)> {
    let mut seeds = Vec::new();
    for (document, which, lengths) in [
        (HOUSEHOLD, "fixture", &[1, 2, 3, 4, 5, 6][..]),
        (NEW_HOUSEHOLD, "new-household", &[1, 2, 4, 8, 16][..]),
    ] {
        let chunks: Vec<Vec<u8>> = sessions
            .iter()
            .flat_map(|session| &session.changes)
            .filter(|(id, _)| *id == document)
            .flat_map(|(_, changes)| changes.iter().cloned())
            .map(|mut change| change.bytes().into_owned())
            .collect();
        for &length in lengths.iter().filter(|length| **length <= chunks.len()) {
            // The fixture household's changes are few, and each a different action.
            let committed = document == HOUSEHOLD || length == 1 || length == 16;
            let name = format!("{which}-first-{length:02}.changes");
            seeds.push((name, chunks[..length].concat(), committed));
        }
        for (index, chunk) in chunks.iter().enumerate() {
            let name = format!("{which}-{index:02}.change");
            seeds.push((name, chunk.clone(), false));
        }
    }
    let mut bound = world().household.clone();
    // A change by an actor the fixture's tables bind to another device.
    bound.set_actor(ActorId::from(crate::world::OTHER_DEVICES_ACTOR.as_slice()));
    let mut doc = HouseholdDoc::new(&mut bound);
    if doc
        .update_housing(
            &signed(13),
            "Exempelgatan 7",
            "",
            lots_core::HousingForm::OwnHousing,
        )
        .is_ok()
        && let Some(mut change) = bound.get_last_local_change()
    {
        seeds.push((
            "other-device-actor.change".into(),
            change.bytes().into_owned(),
            true,
        ));
    }
    seeds
}

#[cfg(test)]
mod tests {
    //! The seeds must reach deep: honest changes pass the vetting, so mutations of them
    //! explore what lies past each check rather than stopping at the first.

    use lots_core::automerge::Change;
    use lots_core::{Output, vet_changes};

    use super::*;
    use crate::world::Tables;

    fn seed(seeds: &[Seed], target: &str, name: &str) -> Vec<u8> {
        seeds
            .iter()
            .find(|seed| seed.target == target && seed.name == name)
            .map(|seed| seed.bytes.clone())
            .unwrap_or_else(|| panic!("no seed {target}/{name}"))
    }

    #[test]
    fn the_recorded_first_sync_is_taken_whole_by_the_vetting_server() {
        let seeds = seeds();
        let outputs = crate::serve(&seed(&seeds, "server_peer", "first-sync.frames"));
        let refused: Vec<&Output> = outputs
            .iter()
            .filter(|output| matches!(output, Output::Refused { .. } | Output::Rejected { .. }))
            .collect();
        assert!(refused.is_empty(), "{refused:?}");
        for document in [HOUSEHOLD, NEW_HOUSEHOLD] {
            assert!(
                outputs.contains(&Output::DocumentChanged { document }),
                "{document} did not change: {outputs:?}"
            );
        }
    }

    #[test]
    fn the_phones_changes_pass_the_vetting() {
        let seeds = seeds();
        let bytes = seed(&seeds, "vet_change", "fixture-first-04.changes");
        let changes: Vec<Change> = crate::chunks::split(&bytes)
            .into_iter()
            .map(|chunk| Change::try_from(chunk).expect("a change"))
            .collect();
        assert_eq!(changes.len(), 4);
        let vetting = vet_changes(
            &world().household,
            changes,
            &anna(),
            &Tables::for_fixture(),
            now(),
        );
        assert!(vetting.refused.is_empty(), "{:?}", vetting.refused);
        assert_eq!(vetting.accepted.len(), 4);
    }
}
