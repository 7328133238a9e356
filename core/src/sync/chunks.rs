//! The changes inside a sync message, read without trusting their sizes.
//!
//! A sync message carries Automerge chunks: single changes (plain or DEFLATE-compressed) or a
//! whole document whose columns may be compressed. Automerge inflates both without a limit,
//! so a few megabytes of a hostile message could become gigabytes in memory. Before any
//! chunk reaches Automerge, this module walks its header and inflates its compressed parts
//! into a counter, refusing the chunk once the budget is spent. Nothing else offers this:
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
}

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
    let mut reader = Reader {
        bytes: chunk,
        at: 9,
    };
    let len = reader.uleb()? as usize;
    let data = reader.take(len)?;
    let size = match kind {
        CHANGE => data.len(),
        COMPRESSED => inflate_len(data, budget)?,
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
    for _ in 0..reader.uleb()? {
        let len = reader.uleb()? as usize;
        reader.take(len)?;
    }
    let heads = reader.uleb()? as usize;
    reader.take(heads.checked_mul(32).ok_or_else(cut_short)?)?;
    let mut columns = Vec::new();
    for _ in 0..2 {
        for _ in 0..reader.uleb()? {
            let spec = reader.uleb()?;
            let len = reader.uleb()? as usize;
            columns.push((spec & DEFLATE_BIT != 0, len));
        }
    }
    let mut size = data.len();
    for (deflated, len) in columns {
        let column = reader.take(len)?;
        if deflated {
            size = size.saturating_add(inflate_len(column, budget.saturating_sub(size))?);
            if size > budget {
                return Err(ChunkError::TooLarge { budget });
            }
        }
    }
    Ok(size)
}

/// How many bytes `deflated` inflates to, reading at most one byte past `budget`.
fn inflate_len(deflated: &[u8], budget: usize) -> Result<usize, ChunkError> {
    let limit = u64::try_from(budget).unwrap_or(u64::MAX).saturating_add(1);
    let mut decoder = flate2::read::DeflateDecoder::new(deflated).take(limit);
    let inflated = std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|error| {
        ChunkError::Damaged(format!("a compressed part does not inflate: {error}"))
    })?;
    if inflated > budget as u64 {
        return Err(ChunkError::TooLarge { budget });
    }
    Ok(inflated as usize)
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
