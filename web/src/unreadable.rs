//! Households that cannot be read, listed all the same: nothing is silently left out of the
//! phone's list, the desk's overview or its counts. A household may fail to read on the
//! device (its stored bytes do not load, or its document does not read as a household) or on
//! the server (the caseload API lists it with `unreadable` set). Pure: the engine keeps the
//! two sources and this module merges them.

use std::collections::BTreeMap;

use lots_core::DocumentId;

/// Where a household failed to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// On this device: its own copy.
    Device,
    /// On the server, which listed it in the caseload with the reason.
    Server,
}

/// A household the caseload API lists as unreadable, as the device keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServerUnreadable {
    /// Why, in the server's words.
    pub reason: String,
    /// Its district, from the server's index (may be empty).
    #[serde(default)]
    pub district: String,
    /// Its address, when the server knows it (usually empty).
    #[serde(default)]
    pub address: String,
}

/// A household that cannot be read, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Its document.
    pub document: DocumentId,
    /// Where it failed.
    pub place: Place,
    /// Why.
    pub reason: String,
    /// Its district, when known.
    pub district: String,
    /// Its address, when known.
    pub address: String,
}

/// Every household that cannot be read: those that fail on the device, and those the server
/// cannot read unless the device reads its own copy (that household is listed as usual, with
/// the server's reason beside it: [`server_reason`]). In document order.
pub fn unreadable(
    on_device: &BTreeMap<DocumentId, String>,
    on_server: &BTreeMap<DocumentId, ServerUnreadable>,
    reads_on_device: impl Fn(&DocumentId) -> bool,
) -> Vec<Unreadable> {
    let mut list: BTreeMap<DocumentId, Unreadable> = BTreeMap::new();
    for (document, entry) in on_server {
        if reads_on_device(document) {
            continue;
        }
        list.insert(
            *document,
            Unreadable {
                document: *document,
                place: Place::Server,
                reason: entry.reason.clone(),
                district: entry.district.clone(),
                address: entry.address.clone(),
            },
        );
    }
    for (document, reason) in on_device {
        if reads_on_device(document) {
            continue;
        }
        let known = list.remove(document);
        list.insert(
            *document,
            Unreadable {
                document: *document,
                place: Place::Device,
                reason: reason.clone(),
                district: known
                    .as_ref()
                    .map(|known| known.district.clone())
                    .unwrap_or_default(),
                address: known.map(|known| known.address).unwrap_or_default(),
            },
        );
    }
    list.into_values().collect()
}

/// Why the server cannot read a household the device reads, if it cannot.
pub fn server_reason<'a>(
    on_server: &'a BTreeMap<DocumentId, ServerUnreadable>,
    document: &DocumentId,
) -> Option<&'a str> {
    on_server.get(document).map(|entry| entry.reason.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> DocumentId {
        DocumentId::from_bytes([byte; 16])
    }

    fn server(reason: &str) -> ServerUnreadable {
        ServerUnreadable {
            reason: reason.into(),
            district: "district-norrmalm".into(),
            address: String::new(),
        }
    }

    #[test]
    fn every_household_that_does_not_read_is_listed_once_with_its_reason() {
        let on_device = BTreeMap::from([(id(1), "damaged bytes".to_owned())]);
        let on_server = BTreeMap::from([
            (id(1), server("no readable copy")),
            (id(2), server("schema version 9")),
            (id(3), server("schema version 9")),
        ]);
        // The device reads its own copy of 3.
        let list = unreadable(&on_device, &on_server, |document| *document == id(3));
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].document, id(1));
        assert_eq!(list[0].place, Place::Device);
        assert_eq!(list[0].reason, "damaged bytes");
        assert_eq!(list[0].district, "district-norrmalm");
        assert_eq!(list[1].document, id(2));
        assert_eq!(list[1].place, Place::Server);
        assert_eq!(server_reason(&on_server, &id(3)), Some("schema version 9"));
        assert_eq!(server_reason(&on_server, &id(4)), None);
    }

    #[test]
    fn a_household_that_reads_again_is_no_longer_listed() {
        let on_device = BTreeMap::from([(id(1), "not yet".to_owned())]);
        let list = unreadable(&on_device, &BTreeMap::new(), |_| true);
        assert!(list.is_empty());
    }
}
