//! `vet_edits`: arbitrary edits made with Automerge's own API on a copy of the fixture
//! household (or on an empty document), signed or not, by one actor or another, then vetted
//! as the server vets what a device sends.
//!
//! Random bytes rarely make a change that parses; edits built from the input do, so this
//! target reaches the schema's checks of every operation (`schema::vet`) where `vet_change`
//! mostly reaches the parser. Objects are picked from those the document has, keys and
//! strings mostly from the fixture's own, so that an edit often lands where the schema has
//! room for it.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use lots_core::automerge::transaction::{CommitOptions, Transactable as _, Transaction};
use lots_core::automerge::{ActorId, Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use lots_core::{TEXT_ENCODING, Writer, vet_changes};

use crate::vet_change::still_reads;
use crate::world::{OTHER_DEVICES_ACTOR, Tables, anna, now, omar, sara, world};

/// At most this many changes per input, and operations per change: enough for any action
/// of the app, few enough that one run stays fast.
const MAX_CHANGES: usize = 4;
const MAX_OPERATIONS: usize = 48;

#[derive(Debug, Arbitrary)]
struct Edits {
    writer: Person,
    base: Base,
    changes: Vec<Commit>,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Person {
    Anna,
    Sara,
    Omar,
}

impl Person {
    fn writer(self) -> Writer {
        match self {
            Self::Anna => anna(),
            Self::Sara => sara(),
            Self::Omar => omar(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Base {
    Fixture,
    Empty,
}

#[derive(Debug, Arbitrary)]
struct Commit {
    actor: Actor,
    signer: Signer,
    at: When,
    operations: Vec<Operation>,
}

#[derive(Debug, Arbitrary)]
enum Actor {
    /// The actor the fixture's history was written with.
    Fixture,
    /// A new actor.
    Fresh(u8),
    /// An actor bound to Omar's device.
    OtherDevice,
}

#[derive(Debug, Arbitrary)]
enum Signer {
    /// The writer, on their device.
    Writer,
    /// Someone else (perhaps the writer) on their device.
    Person(Person),
    /// The writer's id on another person's device.
    WriterOn(Person),
    /// No message at all.
    Unsigned,
    /// Any message.
    Message(String),
}

#[derive(Debug, Arbitrary)]
enum When {
    Before(u16),
    Ahead(u16),
    Exactly(i64),
}

#[derive(Debug, Arbitrary)]
enum Operation {
    Put(u16, Key, Scalar),
    PutObject(u16, Key, Kind),
    Delete(u16, Key),
    // Counters stay far from i64's limits: automerge 0.12 adds increments to a counter
    // without checking (op_set2/op.rs:993), which overflows on the writer's side; the
    // vetting refuses counters wherever they are (no field of the schema reads one).
    Increment(u16, Key, i32),
    Insert(u16, u16, Scalar),
    InsertObject(u16, u16, Kind),
    DeleteAt(u16, u16),
    SpliceText(u16, u16, u8, Text),
    // No marks: automerge 0.12's own debug assertion (op_set2/op_set.rs:584) fails on some
    // local marks, which would end every run here, on the writer's side, before any vetting.
    // Marks another replica sends still reach the vetting through `vet_change`.
    SplitBlock(u16, u16),
}

#[derive(Debug, Arbitrary)]
enum Key {
    /// A key of the fixture (every field name the schema uses is one).
    Known(u16),
    /// A key the object has now.
    Existing(u16),
    Any(String),
}

#[derive(Debug, Arbitrary)]
enum Text {
    Known(u16),
    Any(String),
}

#[derive(Debug, Arbitrary)]
enum Kind {
    Map,
    List,
    Text,
}

impl Kind {
    fn obj_type(&self) -> ObjType {
        match self {
            Self::Map => ObjType::Map,
            Self::List => ObjType::List,
            Self::Text => ObjType::Text,
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Scalar {
    Known(u16),
    Str(String),
    Int(i64),
    Uint(u64),
    F64(f64),
    Counter(i32),
    Timestamp(i64),
    Boolean(bool),
    Null,
    Bytes(Vec<u8>),
    Unknown(u8, Vec<u8>),
}

impl Scalar {
    fn value(&self) -> ScalarValue {
        match self {
            Self::Known(index) => ScalarValue::from(pick(&vocabulary().strings, *index).as_str()),
            Self::Str(text) => ScalarValue::from(text.as_str()),
            Self::Int(value) => ScalarValue::Int(*value),
            Self::Uint(value) => ScalarValue::Uint(*value),
            Self::F64(value) => ScalarValue::F64(*value),
            Self::Counter(value) => ScalarValue::counter(i64::from(*value)),
            Self::Timestamp(value) => ScalarValue::Timestamp(*value),
            Self::Boolean(value) => ScalarValue::Boolean(*value),
            Self::Null => ScalarValue::Null,
            Self::Bytes(bytes) => ScalarValue::Bytes(bytes.clone()),
            // The encoding has four bits for a value's type, and 10 to 15 are not yet used:
            // other codes are not a value another replica could send.
            Self::Unknown(type_code, bytes) => ScalarValue::Unknown {
                type_code: 10 + type_code % 6,
                bytes: bytes.clone(),
            },
        }
    }
}

/// The fixture's keys and string values, and the objects of the fixture document.
struct Vocabulary {
    keys: Vec<String>,
    strings: Vec<String>,
    fixture_objects: Vec<ObjId>,
}

fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        let json: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/household-v1.json"))
                .unwrap_or_default();
        let mut keys = vec!["schema_version".to_owned()];
        let mut strings = vec![String::new()];
        let mut stack = vec![&json];
        while let Some(value) = stack.pop() {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, child) in map {
                        keys.push(key.clone());
                        stack.push(child);
                    }
                }
                serde_json::Value::Array(items) => stack.extend(items),
                serde_json::Value::String(text) => strings.push(text.clone()),
                _ => {}
            }
        }
        keys.sort();
        keys.dedup();
        strings.sort();
        strings.dedup();
        Vocabulary {
            keys,
            strings,
            fixture_objects: objects(&world().household),
        }
    })
}

fn pick<T>(items: &[T], index: u16) -> &T {
    &items[usize::from(index) % items.len()]
}

/// Every object of `doc`, breadth first from the root.
fn objects(doc: &Automerge) -> Vec<ObjId> {
    let mut found = vec![ROOT];
    let mut at = 0;
    while let Some(obj) = found.get(at).cloned() {
        at += 1;
        let children: Vec<ObjId> = match doc.object_type(&obj) {
            Ok(ObjType::Map | ObjType::Table) => doc
                .keys(&obj)
                .filter_map(|key| match doc.get(&obj, key.as_str()) {
                    Ok(Some((Value::Object(_), id))) => Some(id),
                    _ => None,
                })
                .collect(),
            Ok(ObjType::List) => (0..doc.length(&obj))
                .filter_map(|index| match doc.get(&obj, index) {
                    Ok(Some((Value::Object(_), id))) => Some(id),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        found.extend(children);
    }
    found
}

/// Builds edits from `data`, commits them, and vets the changes as the chosen writer's.
pub fn vet_edits(data: &[u8]) {
    let Ok(edits) = Edits::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let empty;
    let (base, mut objects) = match edits.base {
        Base::Fixture => (&world().household, vocabulary().fixture_objects.clone()),
        Base::Empty => {
            empty = Automerge::new_with_encoding(TEXT_ENCODING);
            (&empty, vec![ROOT])
        }
    };
    let writer = edits.writer.writer();
    let mut doc = base.fork();
    for commit in edits.changes.into_iter().take(MAX_CHANGES) {
        doc.set_actor(match commit.actor {
            Actor::Fixture => world()
                .fixture_actors
                .first()
                .cloned()
                .unwrap_or_else(|| ActorId::from([0x01; 16].as_slice())),
            Actor::Fresh(byte) => ActorId::from([byte; 16].as_slice()),
            Actor::OtherDevice => ActorId::from(OTHER_DEVICES_ACTOR.as_slice()),
        });
        let mut tx = doc.transaction();
        for operation in commit.operations.iter().take(MAX_OPERATIONS) {
            apply(&mut tx, &mut objects, operation);
        }
        let at = match commit.at {
            When::Before(minutes) => now().as_millis() - i64::from(minutes) * 60_000,
            When::Ahead(minutes) => now().as_millis() + i64::from(minutes) * 60_000,
            When::Exactly(millis) => millis,
        };
        let message = match commit.signer {
            Signer::Writer => Some(signature(&writer, &writer, at)),
            Signer::Person(person) => {
                let person = person.writer();
                Some(signature(&person, &person, at))
            }
            Signer::WriterOn(person) => Some(signature(&writer, &person.writer(), at)),
            Signer::Unsigned => None,
            Signer::Message(message) => Some(message),
        };
        let mut options = CommitOptions::default().with_time(at.div_euclid(1000));
        if let Some(message) = message {
            options = options.with_message(message);
        }
        tx.commit_with(options);
    }
    let changes = doc.get_changes(&base.get_heads());
    let vetting = vet_changes(base, changes, &writer, &Tables::for_fixture(), now());
    still_reads(&vetting);
}

/// A Lots signature as a change's message: `staff` of one writer on `device` of another.
fn signature(staff: &Writer, device: &Writer, at: i64) -> String {
    serde_json::json!({
        "staff": staff.staff.as_str(),
        "device": device.device.as_str(),
        "at": at,
        "action": "fuzz",
    })
    .to_string()
}

/// Applies one operation; errors (a key on a list, an index past the end) leave the
/// transaction as it was, as they do in Automerge.
fn apply(tx: &mut Transaction<'_>, objects: &mut Vec<ObjId>, operation: &Operation) {
    let key = |tx: &Transaction<'_>, obj: &ObjId, key: &Key| -> String {
        match key {
            Key::Known(index) => pick(&vocabulary().keys, *index).clone(),
            Key::Existing(index) => {
                let keys: Vec<String> = tx.keys(obj).collect();
                if keys.is_empty() {
                    String::new()
                } else {
                    pick(&keys, *index).clone()
                }
            }
            Key::Any(key) => key.clone(),
        }
    };
    let index = |tx: &Transaction<'_>, obj: &ObjId, index: u16| -> usize {
        usize::from(index) % (tx.length(obj) + 1)
    };
    match operation {
        Operation::Put(obj, name, value) => {
            let obj = pick(objects, *obj).clone();
            let name = key(tx, &obj, name);
            let _ = tx.put(&obj, name, value.value());
        }
        Operation::PutObject(obj, name, kind) => {
            let obj = pick(objects, *obj).clone();
            let name = key(tx, &obj, name);
            if let Ok(made) = tx.put_object(&obj, name, kind.obj_type()) {
                objects.push(made);
            }
        }
        Operation::Delete(obj, name) => {
            let obj = pick(objects, *obj).clone();
            let name = key(tx, &obj, name);
            let _ = tx.delete(&obj, name);
        }
        Operation::Increment(obj, name, by) => {
            let obj = pick(objects, *obj).clone();
            let name = key(tx, &obj, name);
            let _ = tx.increment(&obj, name, i64::from(*by));
        }
        Operation::Insert(obj, at, value) => {
            let obj = pick(objects, *obj).clone();
            let at = index(tx, &obj, *at);
            let _ = tx.insert(&obj, at, value.value());
        }
        Operation::InsertObject(obj, at, kind) => {
            let obj = pick(objects, *obj).clone();
            let at = index(tx, &obj, *at);
            if let Ok(made) = tx.insert_object(&obj, at, kind.obj_type()) {
                objects.push(made);
            }
        }
        Operation::DeleteAt(obj, at) => {
            let obj = pick(objects, *obj).clone();
            let at = index(tx, &obj, *at);
            let _ = tx.delete(&obj, at);
        }
        Operation::SpliceText(obj, at, delete, text) => {
            let obj = pick(objects, *obj).clone();
            let at = index(tx, &obj, *at);
            let text = match text {
                Text::Known(index) => pick(&vocabulary().strings, *index).as_str(),
                Text::Any(text) => text.as_str(),
            };
            let delete = isize::from(*delete).min((tx.length(&obj) - at) as isize);
            let _ = tx.splice_text(&obj, at, delete, text);
        }
        Operation::SplitBlock(obj, at) => {
            let obj = pick(objects, *obj).clone();
            let at = index(tx, &obj, *at);
            if let Ok(made) = tx.split_block(&obj, at) {
                objects.push(made);
            }
        }
    }
}
