//! The automerge-repo wire messages (protocol version 1), CBOR encoded.
//!
//! Messages are decoded into a flat record first and then checked per type, so that a message
//! type this peer does not act on (ephemeral, remote-heads-changed, …) is recognised and
//! skipped, while a malformed message of a known type gets an error naming what is wrong.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use super::document_id::{DocumentId, DocumentIdError};

/// The protocol version this peer speaks.
pub const PROTOCOL_VERSION: &str = "1";

/// A peer's id, chosen by the peer (automerge-repo uses random strings).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PeerId(String);

/// The longest peer id accepted, in bytes.
pub const MAX_PEER_ID_LEN: usize = 256;

impl PeerId {
    /// A peer id; `None` when empty or longer than [`MAX_PEER_ID_LEN`].
    pub fn new(id: impl Into<String>) -> Option<Self> {
        let id = id.into();
        (!id.is_empty() && id.len() <= MAX_PEER_ID_LEN).then_some(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a peer says about itself when it joins.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PeerMetadata {
    /// The peer's storage id, when it stores documents.
    #[serde(rename = "storageId", default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<String>,
    /// Whether the peer keeps nothing after it disconnects.
    #[serde(rename = "isEphemeral", default)]
    pub is_ephemeral: bool,
}

/// A message of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A client introduces itself.
    Join {
        /// The client.
        sender: PeerId,
        /// What it says about itself.
        metadata: PeerMetadata,
        /// Protocol versions it speaks.
        supported_versions: Vec<String>,
    },
    /// The server answers a join.
    Peer {
        /// The server.
        sender: PeerId,
        /// What it says about itself.
        metadata: PeerMetadata,
        /// The version chosen.
        selected_version: String,
        /// The client.
        target: PeerId,
    },
    /// The sender is going away.
    Leave {
        /// The peer leaving.
        sender: PeerId,
    },
    /// The sender refuses the connection.
    Error {
        /// Why.
        message: String,
    },
    /// A sync message for a document the sender does not have (yet).
    Request {
        /// The sender.
        sender: PeerId,
        /// The receiver.
        target: PeerId,
        /// The document.
        document: DocumentId,
        /// An Automerge sync message.
        data: Vec<u8>,
    },
    /// A sync message for a document the sender has.
    Sync {
        /// The sender.
        sender: PeerId,
        /// The receiver.
        target: PeerId,
        /// The document.
        document: DocumentId,
        /// An Automerge sync message.
        data: Vec<u8>,
    },
    /// The sender does not have the document (or may not share it).
    DocUnavailable {
        /// The sender.
        sender: PeerId,
        /// The receiver.
        target: PeerId,
        /// The document.
        document: DocumentId,
    },
    /// A message type this peer does not act on, such as `ephemeral`.
    Other {
        /// Its type.
        kind: String,
    },
}

/// Why bytes are not a protocol message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Not CBOR, or not a CBOR map.
    #[error("the message is not a CBOR map: {0}")]
    Cbor(String),
    /// A field the message type needs is missing.
    #[error("a {kind:?} message needs the field {field:?}")]
    Missing {
        /// The message type.
        kind: String,
        /// The field.
        field: &'static str,
    },
    /// A peer id that is empty or too long.
    #[error("the field {field:?} is not a valid peer id")]
    PeerId {
        /// The field.
        field: &'static str,
    },
    /// A document id that does not decode.
    #[error(transparent)]
    DocumentId(#[from] DocumentIdError),
}

/// The message as it is on the wire: every field of every type, all optional.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "senderId", default, skip_serializing_if = "Option::is_none")]
    sender: Option<String>,
    #[serde(rename = "targetId", default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(
        rename = "documentId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    document: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<ByteBuf>,
    #[serde(
        rename = "peerMetadata",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    metadata: Option<PeerMetadata>,
    #[serde(
        rename = "supportedProtocolVersions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    supported_versions: Option<Vec<String>>,
    #[serde(
        rename = "selectedProtocolVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    selected_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl Message {
    /// Decodes a message from CBOR.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        let wire: Wire =
            ciborium::from_reader(bytes).map_err(|error| MessageError::Cbor(error.to_string()))?;
        let kind = wire.kind.clone();
        let missing = |field| MessageError::Missing {
            kind: kind.clone(),
            field,
        };
        let peer = |value: Option<String>, field: &'static str| {
            let value = value.ok_or_else(|| missing(field))?;
            PeerId::new(value).ok_or(MessageError::PeerId { field })
        };
        let document = |value: Option<String>| -> Result<DocumentId, MessageError> {
            Ok(value.ok_or_else(|| missing("documentId"))?.parse()?)
        };
        Ok(match wire.kind.as_str() {
            "join" => Message::Join {
                sender: peer(wire.sender, "senderId")?,
                metadata: wire.metadata.unwrap_or_default(),
                supported_versions: wire
                    .supported_versions
                    .ok_or_else(|| missing("supportedProtocolVersions"))?,
            },
            "peer" => Message::Peer {
                sender: peer(wire.sender, "senderId")?,
                metadata: wire.metadata.unwrap_or_default(),
                selected_version: wire
                    .selected_version
                    .ok_or_else(|| missing("selectedProtocolVersion"))?,
                target: peer(wire.target, "targetId")?,
            },
            "leave" => Message::Leave {
                sender: peer(wire.sender, "senderId")?,
            },
            "error" => Message::Error {
                message: wire.message.unwrap_or_default(),
            },
            "request" | "sync" => {
                let sender = peer(wire.sender, "senderId")?;
                let target = peer(wire.target, "targetId")?;
                let document = document(wire.document)?;
                let data = wire.data.ok_or_else(|| missing("data"))?.into_vec();
                if wire.kind == "request" {
                    Message::Request {
                        sender,
                        target,
                        document,
                        data,
                    }
                } else {
                    Message::Sync {
                        sender,
                        target,
                        document,
                        data,
                    }
                }
            }
            "doc-unavailable" => Message::DocUnavailable {
                sender: peer(wire.sender, "senderId")?,
                target: peer(wire.target, "targetId")?,
                document: document(wire.document)?,
            },
            _ => Message::Other { kind: wire.kind },
        })
    }

    /// Encodes the message as CBOR.
    pub fn encode(&self) -> Vec<u8> {
        let wire = match self.clone() {
            Message::Join {
                sender,
                metadata,
                supported_versions,
            } => Wire {
                kind: "join".into(),
                sender: Some(sender.0),
                metadata: Some(metadata),
                supported_versions: Some(supported_versions),
                ..Wire::default()
            },
            Message::Peer {
                sender,
                metadata,
                selected_version,
                target,
            } => Wire {
                kind: "peer".into(),
                sender: Some(sender.0),
                metadata: Some(metadata),
                selected_version: Some(selected_version),
                target: Some(target.0),
                ..Wire::default()
            },
            Message::Leave { sender } => Wire {
                kind: "leave".into(),
                sender: Some(sender.0),
                ..Wire::default()
            },
            Message::Error { message } => Wire {
                kind: "error".into(),
                message: Some(message),
                ..Wire::default()
            },
            Message::Request {
                sender,
                target,
                document,
                data,
            }
            | Message::Sync {
                sender,
                target,
                document,
                data,
            } => Wire {
                kind: if matches!(self, Message::Request { .. }) {
                    "request"
                } else {
                    "sync"
                }
                .into(),
                sender: Some(sender.0),
                target: Some(target.0),
                document: Some(document.to_string()),
                data: Some(ByteBuf::from(data)),
                ..Wire::default()
            },
            Message::DocUnavailable {
                sender,
                target,
                document,
            } => Wire {
                kind: "doc-unavailable".into(),
                sender: Some(sender.0),
                target: Some(target.0),
                document: Some(document.to_string()),
                ..Wire::default()
            },
            Message::Other { kind } => Wire {
                kind,
                ..Wire::default()
            },
        };
        let mut bytes = Vec::new();
        // Writing CBOR into a Vec cannot fail.
        let _ = ciborium::into_writer(&wire, &mut bytes);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: &str) -> PeerId {
        PeerId::new(id).unwrap()
    }

    #[test]
    fn every_message_round_trips() {
        let document = DocumentId::from_bytes([3; 16]);
        for message in [
            Message::Join {
                sender: peer("phone"),
                metadata: PeerMetadata {
                    storage_id: Some("s1".into()),
                    is_ephemeral: false,
                },
                supported_versions: vec!["1".into()],
            },
            Message::Peer {
                sender: peer("server"),
                metadata: PeerMetadata::default(),
                selected_version: "1".into(),
                target: peer("phone"),
            },
            Message::Leave {
                sender: peer("phone"),
            },
            Message::Error {
                message: "no".into(),
            },
            Message::Request {
                sender: peer("a"),
                target: peer("b"),
                document,
                data: vec![1, 2],
            },
            Message::Sync {
                sender: peer("a"),
                target: peer("b"),
                document,
                data: vec![],
            },
            Message::DocUnavailable {
                sender: peer("a"),
                target: peer("b"),
                document,
            },
        ] {
            assert_eq!(Message::decode(&message.encode()).unwrap(), message);
        }
    }

    #[test]
    fn unknown_types_are_recognised_not_refused() {
        let bytes = Message::Other {
            kind: "ephemeral".into(),
        }
        .encode();
        assert_eq!(
            Message::decode(&bytes).unwrap(),
            Message::Other {
                kind: "ephemeral".into()
            }
        );
    }

    #[test]
    fn malformed_messages_get_specific_errors() {
        assert!(matches!(
            Message::decode(b"\xff\x00"),
            Err(MessageError::Cbor(_))
        ));
        let mut bytes = Vec::new();
        ciborium::into_writer(
            &Wire {
                kind: "sync".into(),
                sender: Some("a".into()),
                ..Wire::default()
            },
            &mut bytes,
        )
        .unwrap();
        assert_eq!(
            Message::decode(&bytes),
            Err(MessageError::Missing {
                kind: "sync".into(),
                field: "targetId"
            })
        );
    }
}
