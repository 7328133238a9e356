//! Document ids as automerge-repo writes them: 16 random bytes in base58check, optionally
//! behind the `automerge:` URL scheme.

use std::fmt;
use std::str::FromStr;

/// The id of one document (one household).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId([u8; 16]);

/// Why a string is not a document id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentIdError {
    /// Not base58check, or the checksum does not match.
    #[error("{input:?} is not a base58check document id: {reason}")]
    Encoding {
        /// The text given.
        input: String,
        /// What the decoder said.
        reason: String,
    },
    /// Decoded, but not 16 bytes long.
    #[error("document id {input:?} holds {len} bytes; automerge-repo ids hold 16")]
    Length {
        /// The text given.
        input: String,
        /// Its decoded length.
        len: usize,
    },
}

impl DocumentId {
    /// An id from 16 random bytes supplied by the caller.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The id's bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The `automerge:` URL that automerge-repo clients use.
    pub fn url(&self) -> String {
        format!("automerge:{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl FromStr for DocumentId {
    type Err = DocumentIdError;
    fn from_str(input: &str) -> Result<Self, DocumentIdError> {
        let encoded = input.strip_prefix("automerge:").unwrap_or(input);
        let bytes = bs58::decode(encoded)
            .with_check(None)
            .into_vec()
            .map_err(|error| DocumentIdError::Encoding {
                input: input.to_owned(),
                reason: error.to_string(),
            })?;
        let bytes: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| DocumentIdError::Length {
                input: input.to_owned(),
                len: bytes.len(),
            })?;
        Ok(Self(bytes))
    }
}

impl serde::Serialize for DocumentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DocumentId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_urls() {
        let id = DocumentId::from_bytes([7; 16]);
        assert_eq!(id.to_string().parse::<DocumentId>().unwrap(), id);
        assert_eq!(id.url().parse::<DocumentId>().unwrap(), id);
    }

    #[test]
    fn a_known_automerge_repo_id_decodes() {
        // The checksum is SHA-256 twice, as automerge-repo's bs58check computes it: this id
        // was encoded independently (by a few lines of Python), not by this crate's encoder.
        let id = DocumentId::from_bytes([0; 16]);
        assert_eq!(id.to_string(), "11111111111111114Ki9Gx");
    }

    #[test]
    fn damaged_ids_are_refused() {
        let mut text = DocumentId::from_bytes([9; 16]).to_string();
        text.replace_range(0..1, if text.starts_with('2') { "3" } else { "2" });
        assert!(matches!(
            text.parse::<DocumentId>(),
            Err(DocumentIdError::Encoding { .. })
        ));
        let short = bs58::encode([1u8; 8]).with_check().into_string();
        assert!(matches!(
            short.parse::<DocumentId>(),
            Err(DocumentIdError::Length { len: 8, .. })
        ));
    }
}
