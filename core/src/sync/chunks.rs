//! The changes inside a sync message, read without trusting their sizes.
//!
//! A sync message carries Automerge chunks: single changes (plain or DEFLATE-compressed) or a
//! whole document whose columns may be compressed. Automerge inflates both without a limit,
//! so a few megabytes of a hostile message could become gigabytes in memory. Before any
//! chunk reaches Automerge, this module walks its header and inflates its compressed parts
//! into a counter, refusing the chunk once the budget is spent. It also counts each column's
//! rows without expanding them: a run-length encoded column says "this value, 2.7 billion
//! times" in a few bytes, and Automerge 0.12 expands it (a 2.5 KB document, found by
//! fuzzing, took 10 GB and 20 s to fail to load). Nothing else offers this:
//! Automerge's chunk parser is private, and its format is documented in the Automerge binary
//! format specification, which this follows.

use std::io::Read as _;

use automerge::{Automerge, Change, LoadOptions, OnPartialLoad, VerificationMode};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED: u8 = 2;
/// The column specification's bit that says the column is DEFLATE-compressed.
const DEFLATE_BIT: u64 = 0b1000;

/// Why the chunks of a message were not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// Not an Automerge chunk, or a damaged one.
    #[error("not a readable Automerge chunk: {0}")]
    Damaged(String),
    /// A kind of chunk peers do not send.
    #[error("a chunk of type {0}, which sync messages do not carry")]
    Unsupported(u8),
    /// Larger than the budget once inflated.
    #[error("the message's changes inflate to more than {budget} bytes")]
    TooLarge {
        /// The budget.
        budget: usize,
    },
    /// A column that expands to more rows than a household's chunk ever holds.
    #[error("a column of the chunk expands to more than {limit} rows")]
    TooManyRows {
        /// The most rows a column of such a chunk may have.
        limit: u64,
    },
}

/// The most rows one column of a chunk may expand to: seven times the operations of a
/// household with a thousand visits (about 140,000), so that a restored phone's whole
/// household still fits, while what a hostile chunk can make Automerge allocate stays
/// bounded. A change with more operations than the app ever writes, but fewer rows than
/// this, is read and refused by the validation (`too-large`) into the quarantine, where a
/// supervisor sees it whole.
pub const MAX_COLUMN_ROWS: u64 = 1 << 20;

/// Column types of the binary format (a column specification's low three bits).
const BOOLEAN: u64 = 4;
const STRING: u64 = 5;
const VALUE_RAW: u64 = 7;

/// Every change in `chunks`, in the order they come, after checking that all of them
/// together inflate to at most `budget` bytes.
pub(crate) fn changes_in<'a>(
    chunks: impl Iterator<Item = &'a [u8]>,
    budget: usize,
) -> Result<Vec<Change>, ChunkError> {
    let mut left = budget;
    let mut changes = Vec::new();
    // An entry of a sync message may hold several chunks back to back (Automerge's own
    // messages put a batch of changes in one entry): take them one by one.
    let mut split = Vec::new();
    for entry in chunks {
        let mut rest = entry;
        while !rest.is_empty() {
            let len = chunk_len(rest)?;
            let (chunk, after) = rest.split_at(len);
            split.push(chunk);
            rest = after;
        }
    }
    for chunk in split {
        let size = inflated_size(chunk, left).map_err(|error| match error {
            ChunkError::TooLarge { .. } => ChunkError::TooLarge { budget },
            other => other,
        })?;
        left = left.saturating_sub(size);
        match chunk_type(chunk)? {
            DOCUMENT => {
                let options = LoadOptions::new()
                    .on_partial_load(OnPartialLoad::Error)
                    .verification_mode(VerificationMode::Check)
                    .text_encoding(crate::schema::TEXT_ENCODING);
                let doc = Automerge::load_with_options(chunk, options)
                    .map_err(|error| ChunkError::Damaged(error.to_string()))?;
                changes.extend(doc.get_changes(&[]));
            }
            _ => changes.push(
                Change::try_from(chunk).map_err(|error| ChunkError::Damaged(error.to_string()))?,
            ),
        }
    }
    Ok(changes)
}

/// How far bytes from storage may inflate, per byte stored (household documents compress to
/// a fifth or so; a column of repeated text to far less).
const STORED_INFLATION: usize = 64;

/// The least a stored document may inflate to, whatever its size.
const MIN_STORED_BUDGET: usize = 64 << 20;

/// Checks bytes from storage — a saved document, perhaps followed by incremental saves —
/// before Automerge loads them: every chunk's compressed parts inflate within a budget, and
/// no column expands to more rows than a household's ever has. Damaged storage is then an
/// error, not gigabytes allocated (or the process ended for lack of them).
pub fn check_stored(bytes: &[u8]) -> Result<(), ChunkError> {
    stored_chunks(bytes).map(|_| ())
}

/// The chunks of bytes from storage, each checked as [`check_stored`] says.
fn stored_chunks(bytes: &[u8]) -> Result<Vec<&[u8]>, ChunkError> {
    let budget = bytes
        .len()
        .saturating_mul(STORED_INFLATION)
        .max(MIN_STORED_BUDGET);
    let mut left = budget;
    let mut rest = bytes;
    let mut chunks = Vec::new();
    while !rest.is_empty() {
        let len = chunk_len(rest)?;
        let (chunk, after) = rest.split_at(len);
        let size = inflated_size(chunk, left).map_err(|error| match error {
            ChunkError::TooLarge { .. } => ChunkError::TooLarge { budget },
            other => other,
        })?;
        left = left.saturating_sub(size);
        chunks.push(chunk);
        rest = after;
    }
    Ok(chunks)
}

/// Whether `doc` already holds every change in `bytes` (stored chunks: saved documents and
/// changes, back to back), read from the chunks' headers where it can: a saved document by
/// its heads, a change by its hash. The server compacts a household from the copy it holds
/// when that copy covers what is stored, instead of loading the stored chunks again. Damaged
/// bytes (or bytes past [`check_stored`]'s limits) are not covered: the caller then loads
/// them, which checks them again and reports what it finds.
pub fn covered_by(doc: &Automerge, bytes: &[u8]) -> bool {
    let holds = |hash: &[u8]| {
        <[u8; 32]>::try_from(hash).is_ok_and(|hash| {
            doc.get_change_meta_by_hash(&automerge::ChangeHash(hash))
                .is_some()
        })
    };
    stored_chunks(bytes).is_ok_and(|chunks| {
        chunks.into_iter().all(|chunk| match chunk_type(chunk) {
            Ok(DOCUMENT) => chunk_data(chunk)
                .and_then(|data| heads_after_actors(&mut Reader { bytes: data, at: 0 }))
                .is_ok_and(|heads| heads.chunks(32).all(holds)),
            Ok(CHANGE | COMPRESSED) => {
                Change::try_from(chunk).is_ok_and(|change| holds(&change.hash().0))
            }
            _ => false,
        })
    })
}

/// A chunk's data, after its header (magic bytes, checksum, type and length).
fn chunk_data(chunk: &[u8]) -> Result<&[u8], ChunkError> {
    let mut reader = Reader {
        bytes: chunk,
        at: 9,
    };
    let len = reader.uleb()? as usize;
    reader.take(len)
}

/// A document chunk's data begins with its actors, then its heads: reads past the actors
/// and returns the heads' bytes, 32 a head.
fn heads_after_actors<'a>(reader: &mut Reader<'a>) -> Result<&'a [u8], ChunkError> {
    for _ in 0..reader.uleb()? {
        let len = reader.uleb()? as usize;
        reader.take(len)?;
    }
    let heads = reader.uleb()? as usize;
    reader.take(heads.checked_mul(32).ok_or_else(cut_short)?)
}

/// The length of the first chunk in `bytes`: its header and data.
fn chunk_len(bytes: &[u8]) -> Result<usize, ChunkError> {
    chunk_type(bytes)?;
    let mut reader = Reader { bytes, at: 9 };
    let len = usize::try_from(reader.uleb()?).map_err(|_| cut_short())?;
    let end = reader.at.checked_add(len).ok_or_else(cut_short)?;
    if end > bytes.len() {
        return Err(cut_short());
    }
    Ok(end)
}

fn chunk_type(chunk: &[u8]) -> Result<u8, ChunkError> {
    if chunk.get(..4) != Some(&MAGIC[..]) {
        return Err(ChunkError::Damaged("no Automerge magic bytes".into()));
    }
    chunk
        .get(8)
        .copied()
        .ok_or_else(|| ChunkError::Damaged("the chunk header is cut short".into()))
}

/// The chunk's size with every compressed part inflated, or `TooLarge` once past `budget`.
fn inflated_size(chunk: &[u8], budget: usize) -> Result<usize, ChunkError> {
    let kind = chunk_type(chunk)?;
    let data = chunk_data(chunk)?;
    let size = match kind {
        CHANGE => {
            change_rows(data)?;
            data.len()
        }
        COMPRESSED => {
            // The data is the change chunk's data, deflated.
            let inflated = inflate(data, budget)?;
            change_rows(&inflated)?;
            inflated.len()
        }
        DOCUMENT => document_size(data, budget)?,
        other => return Err(ChunkError::Unsupported(other)),
    };
    if size > budget {
        return Err(ChunkError::TooLarge { budget });
    }
    Ok(size)
}

/// A document chunk's data: actors, heads, the change and operation column metadata, then
/// the columns themselves, some of which may be compressed.
fn document_size(data: &[u8], budget: usize) -> Result<usize, ChunkError> {
    let mut reader = Reader { bytes: data, at: 0 };
    heads_after_actors(&mut reader)?;
    let mut columns = Vec::new();
    for _ in 0..2 {
        for _ in 0..reader.uleb()? {
            let spec = reader.uleb()?;
            let len = reader.uleb()? as usize;
            columns.push((spec, len));
        }
    }
    let mut size = data.len();
    for (spec, len) in columns {
        let column = reader.take(len)?;
        if spec & DEFLATE_BIT != 0 {
            let inflated = inflate(column, budget.saturating_sub(size))?;
            size = size.saturating_add(inflated.len());
            if size > budget {
                return Err(ChunkError::TooLarge { budget });
            }
            column_rows(spec, &inflated, MAX_COLUMN_ROWS)?;
        } else {
            column_rows(spec, column, MAX_COLUMN_ROWS)?;
        }
    }
    Ok(size)
}

/// Checks the rows of a change chunk's operation columns (its data, inflated): the header
/// (dependencies, actor, sequence number, start op, time, message, other actors), then the
/// column metadata and the columns.
fn change_rows(data: &[u8]) -> Result<(), ChunkError> {
    let mut reader = Reader { bytes: data, at: 0 };
    let dependencies = usize::try_from(reader.uleb()?).map_err(|_| cut_short())?;
    reader.take(dependencies.checked_mul(32).ok_or_else(cut_short)?)?;
    let actor = reader.uleb()? as usize;
    reader.take(actor)?;
    for _ in 0..3 {
        reader.uleb()?; // The sequence number, the start op and the time (the same bytes as a ULEB).
    }
    let message = reader.uleb()? as usize;
    reader.take(message)?;
    for _ in 0..reader.uleb()? {
        let len = reader.uleb()? as usize;
        reader.take(len)?;
    }
    let mut columns = Vec::new();
    for _ in 0..reader.uleb()? {
        let spec = reader.uleb()?;
        let len = reader.uleb()? as usize;
        columns.push((spec, len));
    }
    for (spec, len) in columns {
        let column = reader.take(len)?;
        if spec & DEFLATE_BIT != 0 {
            let inflated = inflate(column, MAX_CHANGE_BYTES_INFLATED)?;
            column_rows(spec, &inflated, MAX_COLUMN_ROWS)?;
        } else {
            column_rows(spec, column, MAX_COLUMN_ROWS)?;
        }
    }
    Ok(())
}

/// How far one compressed column of a change may inflate: a change is at most
/// [`MAX_CHANGE_BYTES`](crate::validation::MAX_CHANGE_BYTES) whole.
const MAX_CHANGE_BYTES_INFLATED: usize = crate::validation::MAX_CHANGE_BYTES;

/// Counts a column's rows without expanding them, refusing past `limit`. Run-length encoded
/// columns (every type but booleans and raw values) are runs of a signed count: a positive
/// count repeats the one value after it, a negative one is followed by that many literal
/// values, and zero by the length of a run of nulls. A boolean column is alternating run
/// lengths. Raw values have no rows of their own (their lengths are in the metadata column).
fn column_rows(spec: u64, column: &[u8], limit: u64) -> Result<u64, ChunkError> {
    let kind = spec & 0b111;
    let mut reader = Reader {
        bytes: column,
        at: 0,
    };
    let mut rows: u64 = 0;
    let mut add = |count: u64| -> Result<(), ChunkError> {
        rows = rows.saturating_add(count);
        if rows > limit {
            return Err(ChunkError::TooManyRows { limit });
        }
        Ok(())
    };
    match kind {
        VALUE_RAW => return Ok(0),
        BOOLEAN => {
            while reader.at < column.len() {
                add(reader.uleb()?)?;
            }
        }
        _ => {
            let skip_value = |reader: &mut Reader<'_>| -> Result<(), ChunkError> {
                if kind == STRING {
                    let len = reader.uleb()? as usize;
                    reader.take(len)?;
                } else {
                    // A ULEB, or a SLEB in a delta column: the same bytes to skip.
                    reader.uleb()?;
                }
                Ok(())
            };
            while reader.at < column.len() {
                let count = reader.sleb()?;
                if count > 0 {
                    add(count.unsigned_abs())?;
                    skip_value(&mut reader)?;
                } else if count < 0 {
                    // Each literal takes at least a byte: the loop ends with the column.
                    for _ in 0..count.unsigned_abs() {
                        skip_value(&mut reader)?;
                        add(1)?;
                    }
                } else {
                    add(reader.uleb()?)?;
                }
            }
        }
    }
    Ok(rows)
}

/// `deflated` inflated, reading at most one byte past `budget`.
fn inflate(deflated: &[u8], budget: usize) -> Result<Vec<u8>, ChunkError> {
    let limit = u64::try_from(budget).unwrap_or(u64::MAX).saturating_add(1);
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(deflated)
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(|error| {
            ChunkError::Damaged(format!("a compressed part does not inflate: {error}"))
        })?;
    if inflated.len() > budget {
        return Err(ChunkError::TooLarge { budget });
    }
    Ok(inflated)
}

fn cut_short() -> ChunkError {
    ChunkError::Damaged("the chunk is cut short".into())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], ChunkError> {
        let end = self.at.checked_add(len).ok_or_else(cut_short)?;
        let taken = self.bytes.get(self.at..end).ok_or_else(cut_short)?;
        self.at = end;
        Ok(taken)
    }

    fn uleb(&mut self) -> Result<u64, ChunkError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.take(1)?.first().ok_or_else(cut_short)?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ChunkError::Damaged("a length runs past 64 bits".into()))
    }

    fn sleb(&mut self) -> Result<i64, ChunkError> {
        let mut value: i64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.take(1)?.first().ok_or_else(cut_short)?;
            value |= i64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift + 7 < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << (shift + 7);
                }
                return Ok(value);
            }
        }
        Err(ChunkError::Damaged("a count runs past 64 bits".into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

    use automerge::transaction::Transactable as _;
    use automerge::{ObjType, ROOT};

    use super::*;

    fn doc_with_text(chars: usize) -> Automerge {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        let text = tx.put_object(ROOT, "notes", ObjType::Text).unwrap();
        tx.splice_text(&text, 0, 0, &"a".repeat(chars)).unwrap();
        tx.commit();
        doc
    }

    #[test]
    fn changes_and_documents_read_within_the_budget() {
        let doc = doc_with_text(100);
        let change = doc.get_last_local_change().unwrap().bytes().into_owned();
        let saved = doc.save();
        let changes = changes_in([&change[..], &saved[..]].into_iter(), 1 << 20).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].hash(), changes[1].hash());
    }

    /// A document saved, then changed once: the document, its save, and the save followed
    /// by the change, as storage holds them.
    fn saved_then_changed(chars: usize) -> (Automerge, Vec<u8>, Vec<u8>) {
        let mut doc = doc_with_text(chars);
        let saved = doc.save();
        let heads = doc.get_heads();
        put(&mut doc, "more");
        let stored = [saved.clone(), doc.save_after(&heads)].concat();
        (doc, saved, stored)
    }

    fn put(doc: &mut Automerge, key: &str) {
        let mut tx = doc.transaction();
        tx.put(ROOT, key, 1).unwrap();
        tx.commit();
    }

    #[test]
    fn a_document_covers_the_chunks_of_its_own_history_and_no_other() {
        let (doc, saved, stored) = saved_then_changed(10);
        assert!(covered_by(&doc, &stored), "a save followed by a change");
        assert!(covered_by(&doc, &doc.save()), "a whole save");
        assert!(!covered_by(&Automerge::load(&saved).unwrap(), &stored));

        let mut other = doc.fork();
        put(&mut other, "elsewhere");
        assert!(!covered_by(&doc, &other.save_after(&doc.get_heads())));
        assert!(
            !covered_by(&doc, &other.save()),
            "a save with a head it lacks"
        );
        assert!(!covered_by(&doc, &stored[..stored.len() - 1]), "cut short");
        assert!(!covered_by(&doc, b"not automerge"));

        // Two actors' heads, merged; and a change large enough to be stored compressed.
        let mut merged = doc.clone();
        put(&mut merged, "here");
        merged.merge(&mut other).unwrap();
        assert_eq!(merged.get_heads().len(), 2);
        assert!(covered_by(&merged, &merged.save()));
        assert!(!covered_by(&doc, &merged.save()));
        let mut large = merged.fork();
        let before = large.get_heads();
        let mut tx = large.transaction();
        tx.put(ROOT, "long", "lang text ".repeat(500)).unwrap();
        tx.commit();
        let compressed = large
            .get_last_local_change()
            .unwrap()
            .clone()
            .bytes()
            .into_owned();
        assert_eq!(chunk_type(&compressed).unwrap(), COMPRESSED);
        assert!(covered_by(&large, &compressed));
        assert!(!covered_by(&merged, &compressed));
        assert!(covered_by(
            &large,
            &[merged.save(), large.save_after(&before)].concat()
        ));
    }

    #[test]
    fn several_chunks_in_one_entry_are_each_read() {
        let mut doc = doc_with_text(10);
        let first = doc.get_last_local_change().unwrap().bytes().into_owned();
        let mut tx = doc.transaction();
        tx.put(ROOT, "more", 1).unwrap();
        tx.commit();
        let second = doc.get_last_local_change().unwrap().bytes().into_owned();
        let entry = [first, second].concat();
        let changes = changes_in([&entry[..]].into_iter(), 1 << 20).unwrap();
        assert_eq!(changes.len(), 2);
    }

    #[test]
    fn a_compressed_bomb_is_refused_before_automerge_inflates_it() {
        // Half a million repeated characters compress to a few kilobytes.
        let doc = doc_with_text(500_000);
        let change = doc.get_last_local_change().unwrap().bytes().into_owned();
        assert!(change.len() < 100_000, "{} bytes", change.len());
        assert_eq!(change[8], COMPRESSED);
        let error = changes_in([&change[..]].into_iter(), 200_000).unwrap_err();
        assert_eq!(error, ChunkError::TooLarge { budget: 200_000 });
        let saved = doc.save();
        let error = changes_in([&saved[..]].into_iter(), 200_000).unwrap_err();
        assert_eq!(error, ChunkError::TooLarge { budget: 200_000 });
    }

    fn sleb(value: i64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut value = value;
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
            out.push(if done { byte } else { byte | 0x80 });
            if done {
                return out;
            }
        }
    }

    #[test]
    fn columns_are_counted_without_expanding_them() {
        // "1, 2.7 billion times" in a delta column: six bytes.
        let bomb = [sleb(2_700_000_000), sleb(1)].concat();
        let delta = (1 << 4) | 3;
        assert_eq!(
            column_rows(delta, &bomb, 1 << 20),
            Err(ChunkError::TooManyRows { limit: 1 << 20 })
        );
        // A run, three literals and a run of nulls.
        let column = [
            sleb(5),
            sleb(7),
            sleb(-3),
            sleb(1),
            sleb(2),
            sleb(3),
            sleb(0),
            sleb(4),
        ]
        .concat();
        assert_eq!(column_rows(delta, &column, 1 << 20), Ok(12));
        // Strings: a run of one value, then two literals.
        let string = (3 << 4) | 5;
        let column = [&sleb(4)[..], &[2, b'h', b'i'], &sleb(-2), &[1, b'a'], &[0]].concat();
        assert_eq!(column_rows(string, &column, 1 << 20), Ok(6));
        // Booleans: alternating run lengths.
        let boolean = (3 << 4) | 4;
        assert_eq!(column_rows(boolean, &[3, 4, 5], 1 << 20), Ok(12));
        assert!(column_rows(boolean, &[0x80, 0x80, 0x80, 0x80, 0x10], 1 << 20).is_err());
        // A column cut short is damaged, not a panic.
        assert!(matches!(
            column_rows(string, &[2, 9], 1 << 20),
            Err(ChunkError::Damaged(_))
        ));
    }

    #[test]
    fn a_document_whose_column_expands_to_billions_of_rows_is_refused_unexpanded() {
        // Found by fuzzing: 2.5 KB whose change column repeats a value 2.7 billion times.
        // Automerge 0.12 took 10 GB and 20 seconds to fail to load it.
        let bomb = include_bytes!(
            "../../fuzz/regressions/document_load/oom-bd70d25fd3e8f2aa0c5466667f9dcd09c2dec270"
        );
        assert_eq!(
            check_stored(bomb),
            Err(ChunkError::TooManyRows {
                limit: MAX_COLUMN_ROWS
            })
        );
        assert_eq!(
            changes_in([&bomb[..]].into_iter(), 1 << 20).unwrap_err(),
            ChunkError::TooManyRows {
                limit: MAX_COLUMN_ROWS
            }
        );
        // What an honest device stores passes.
        let (_, _, stored) = saved_then_changed(2_000);
        assert_eq!(check_stored(&stored), Ok(()));
    }

    #[test]
    fn damaged_chunks_are_refused_clearly() {
        // An empty entry holds no chunk (peers send them); these hold broken ones.
        assert!(
            changes_in([&b""[..]].into_iter(), 1 << 20)
                .unwrap()
                .is_empty()
        );
        for bytes in [
            &b"not automerge"[..],
            &[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2, 0xff][..],
        ] {
            assert!(matches!(
                changes_in([bytes].into_iter(), 1 << 20),
                Err(ChunkError::Damaged(_))
            ));
        }
    }
}
