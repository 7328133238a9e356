//! Automerge chunk headers, read just far enough to split bytes into chunks and to give each
//! chunk the checksum its contents need.
//!
//! Automerge refuses a document chunk whose checksum is wrong before reading anything else,
//! so nearly every mutation of a saved document would stop there. Anyone who sends bytes can
//! compute a checksum, so the targets set it right and let the mutation reach the code that
//! reads the contents. (The format is in the Automerge binary format specification.)

use std::io::Read as _;

use sha2::{Digest as _, Sha256};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE: u8 = 1;
const COMPRESSED: u8 = 2;
/// The most a compressed change is inflated to, to compute its checksum.
const MAX_INFLATED: u64 = 16 * 1024 * 1024;

/// A chunk header: the chunk's type, where its data starts and how long the data says it is.
struct Header {
    kind: u8,
    data_start: usize,
    data_len: usize,
}

fn header(bytes: &[u8]) -> Option<Header> {
    if bytes.get(..4)? != MAGIC {
        return None;
    }
    let kind = *bytes.get(8)?;
    let mut len: u64 = 0;
    // The length is a ULEB128 number from the tenth byte on.
    for (at, shift) in (9..).zip((0..64).step_by(7)) {
        let byte = *bytes.get(at)?;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(Header {
                kind,
                data_start: at + 1,
                data_len: usize::try_from(len).ok()?,
            });
        }
    }
    None
}

/// Splits `bytes` into chunks where their headers say each ends; the rest, when it does not
/// start with a whole chunk, is one last chunk as it is.
pub(crate) fn split(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    while !bytes.is_empty() {
        let end = header(bytes)
            .and_then(|header| header.data_start.checked_add(header.data_len))
            .filter(|end| *end <= bytes.len())
            .unwrap_or(bytes.len());
        let (chunk, rest) = bytes.split_at(end);
        chunks.push(chunk);
        bytes = rest;
    }
    chunks
}

/// `bytes` with the checksum of every whole chunk set to what its contents hash to.
pub(crate) fn with_checksums(bytes: &[u8]) -> Vec<u8> {
    let mut fixed = Vec::with_capacity(bytes.len());
    for chunk in split(bytes) {
        let start = fixed.len();
        fixed.extend_from_slice(chunk);
        let Some(header) = header(chunk) else {
            continue;
        };
        let Some(data) = header
            .data_start
            .checked_add(header.data_len)
            .and_then(|end| chunk.get(header.data_start..end))
        else {
            continue;
        };
        // A compressed change carries the checksum of the change it inflates to.
        let checksum = if header.kind == COMPRESSED {
            let mut inflated = Vec::new();
            let inflating = flate2::read::DeflateDecoder::new(data)
                .take(MAX_INFLATED)
                .read_to_end(&mut inflated);
            if inflating.is_err() {
                continue;
            }
            checksum(CHANGE, &inflated)
        } else {
            checksum(header.kind, data)
        };
        fixed[start + 4..start + 8].copy_from_slice(&checksum);
    }
    fixed
}

fn checksum(kind: u8, data: &[u8]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update([kind]);
    let mut len = data.len() as u64;
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            hasher.update([byte]);
            break;
        }
        hasher.update([byte | 0x80]);
    }
    hasher.update(data);
    let hash = hasher.finalize();
    [hash[0], hash[1], hash[2], hash[3]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::FIXTURE;

    #[test]
    fn a_saved_document_keeps_its_checksum_and_a_damaged_one_gets_a_right_one() {
        assert_eq!(with_checksums(FIXTURE), FIXTURE);
        let mut damaged = FIXTURE.to_vec();
        damaged[4] ^= 0xff;
        assert_eq!(with_checksums(&damaged), FIXTURE);
    }

    #[test]
    fn concatenated_chunks_split_where_their_headers_say() {
        let twice = [FIXTURE, FIXTURE, b"tail"].concat();
        assert_eq!(split(&twice), vec![FIXTURE, FIXTURE, &b"tail"[..]]);
    }
}
