//! The Bloom filters inside a peer's sync message, checked before Automerge uses one.
//!
//! Automerge reads a filter's parameters from the wire and trusts them: answering a message,
//! it computes `num_probes` probes for each of the document's changes, allocating them all at
//! once, and divides by the filter's size in bits. A 210-byte message with a filter of four
//! billion probes (found by fuzzing, `core/fuzz/regressions/wire_message/`) kept the server's
//! sync task busy for 30 seconds per document; one with no bits divides by zero. Every
//! Automerge writes 10 bits per entry and 7 probes (`automerge/src/sync/bloom.rs`), and
//! its comment allows other values without breaking the protocol, so the bounds here are
//! generous, yet each answer stays a few probes per change.
//!
//! Automerge does not expose a filter's parameters, so they are read from its encoding (three
//! LEB128 numbers, with the `leb128` crate that Automerge itself uses) rather than trusted.

use automerge::sync::Message;

/// The most probes per hash a filter may ask for.
pub const MAX_PROBES: u64 = 32;

/// The most bits per entry a filter may have.
pub const MAX_BITS_PER_ENTRY: u64 = 64;

/// Whether every Bloom filter of `message` has parameters an honest Automerge could have
/// written: between 1 and [`MAX_PROBES`] probes and between 1 and [`MAX_BITS_PER_ENTRY`]
/// bits per entry. An empty filter (no entries) has none and passes.
pub fn check_bloom_filters(message: &Message) -> Result<(), String> {
    for have in &message.have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            continue;
        }
        let mut reader = bytes.as_slice();
        let mut next = || leb128::read::unsigned(&mut reader).map_err(|error| error.to_string());
        let (_entries, bits_per_entry, probes) = (next()?, next()?, next()?);
        if !(1..=MAX_BITS_PER_ENTRY).contains(&bits_per_entry)
            || !(1..=MAX_PROBES).contains(&probes)
        {
            return Err(format!(
                "a Bloom filter with {bits_per_entry} bits per entry and {probes} probes \
                 (at most {MAX_BITS_PER_ENTRY} and {MAX_PROBES}; Automerge writes 10 and 7)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use automerge::sync::{self, SyncDoc as _};
    use automerge::{AutoCommit, ROOT, transaction::Transactable as _};

    use super::*;

    /// A sync message from a real document, which offers a filter of its changes.
    fn honest() -> Message {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "name", "Testhushåll").unwrap();
        doc.sync()
            .generate_sync_message(&mut sync::State::new())
            .unwrap()
    }

    /// `message` with its first filter replaced by one of one entry with these parameters,
    /// as it would arrive encoded.
    fn with_filter(message: &Message, bits_per_entry: u64, probes: u64) -> Message {
        let mut forged = Vec::new();
        for value in [1, bits_per_entry, probes] {
            leb128::write::unsigned(&mut forged, value).unwrap();
        }
        forged.extend(std::iter::repeat_n(
            0xff,
            bits_per_entry.div_ceil(8) as usize,
        ));
        let mut message = message.clone();
        message.have[0].bloom = automerge::sync::BloomFilter::try_from(forged.as_slice()).unwrap();
        Message::decode(&message.encode()).unwrap()
    }

    #[test]
    fn an_honest_filter_passes_and_a_forged_one_is_refused() {
        let message = honest();
        assert!(!message.have.is_empty(), "the message offers a filter");
        assert!(!message.have[0].bloom.to_bytes().is_empty());
        assert_eq!(check_bloom_filters(&message), Ok(()));
        for (bits, probes) in [(10, u64::from(u32::MAX)), (10, 0), (0, 7), (1_000, 7)] {
            let forged = with_filter(&message, bits, probes);
            let refused = check_bloom_filters(&forged).unwrap_err();
            assert!(refused.contains("Bloom filter"), "{refused}");
        }
        assert_eq!(check_bloom_filters(&with_filter(&message, 20, 14)), Ok(()));
    }
}
