//! Which households this device showed, for the access log the law wants: each opening of a
//! household (or of a planned visit's form) is queued on the device, online or not, and
//! uploaded at the next contact with the device's time; the server adds its own and logs
//! each read once, however often an upload is sent again.
//!
//! [`ReadQueue`] is the queue's logic, pure and tested natively; [`ReadLog`] keeps it in the
//! device's storage and uploads it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lots_core::{DocumentId, Timestamp};

use crate::storage::Storage;

/// The storage key of the queue.
const READS: &str = "reads";

/// What a read showed (the server's `shown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shown {
    /// The household: members, visits and plan.
    Household,
    /// One planned visit, in the form that records it.
    Visit,
    /// Counted in a report on the desk's screen.
    Report,
}

/// One household shown on this device's screen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Read {
    /// This device's id for it: the server logs each id once.
    pub id: String,
    /// The household.
    pub household: String,
    /// What was shown.
    pub shown: Shown,
    /// The visit, for [`Shown::Visit`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
    /// The report, for [`Shown::Report`]: its tertial, as `2026-T2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// When, by this device's clock set right by the server's offset (ms).
    pub at: i64,
}

impl Read {
    /// A read of `household` at `at`, with the id `id`.
    pub fn new(
        id: String,
        household: &DocumentId,
        shown: Shown,
        visit: Option<String>,
        at: Timestamp,
    ) -> Self {
        Self {
            id,
            household: household.to_string(),
            shown,
            visit,
            report: None,
            at: at.as_millis(),
        }
    }
}

/// The reads not yet uploaded, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadQueue {
    reads: Vec<Read>,
    /// Reads dropped because the queue was full (months without coverage), counted and
    /// warned of at each upload.
    #[serde(default)]
    dropped: u64,
}

impl ReadQueue {
    /// The most reads kept: about a year of a busy worker's openings without coverage.
    pub const MAX: usize = 20_000;
    /// Reads per upload (the server's limit).
    pub const BATCH: usize = 500;

    /// Queues a read; when full, the oldest goes and is counted.
    pub fn push(&mut self, read: Read) {
        if self.reads.len() >= Self::MAX {
            self.reads.remove(0);
            self.dropped += 1;
        }
        self.reads.push(read);
    }

    /// The next upload: the oldest reads, at most [`ReadQueue::BATCH`].
    pub fn batch(&self) -> Vec<Read> {
        self.reads.iter().take(Self::BATCH).cloned().collect()
    }

    /// The server has answered for `sent` (logged, logged before, or refused for good):
    /// they leave the queue. Reads queued meanwhile stay.
    pub fn answered(&mut self, sent: &[Read]) {
        self.reads
            .retain(|read| !sent.iter().any(|done| done.id == read.id));
    }

    /// How many wait.
    pub fn len(&self) -> usize {
        self.reads.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.reads.is_empty()
    }

    /// How many were dropped for want of room.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// The queue, kept in the device's storage and uploaded; cheap to clone.
#[derive(Clone)]
pub struct ReadLog {
    queue: Rc<RefCell<ReadQueue>>,
    storage: Storage,
    uploading: Rc<Cell<bool>>,
}

impl PartialEq for ReadLog {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.queue, &other.queue)
    }
}

impl ReadLog {
    /// The queue as stored (empty when nothing is, or what is stored does not read).
    pub async fn load(storage: Storage) -> Self {
        let queue = storage
            .meta::<ReadQueue>(READS)
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        Self {
            queue: Rc::new(RefCell::new(queue)),
            storage,
            uploading: Rc::new(Cell::new(false)),
        }
    }

    /// A person opened `household` (or a visit of it): queued, stored, and uploaded now if
    /// the device is online.
    pub fn record(&self, household: &DocumentId, shown: Shown, visit: Option<String>) {
        let read = Read::new(
            crate::browser::random_id("r"),
            household,
            shown,
            visit,
            crate::browser::now(),
        );
        self.queue.borrow_mut().push(read);
        self.store_and_upload();
    }

    /// The desk showed a report counting `households` (the tertial report for `tertial`):
    /// one read each, queued at once.
    pub fn record_report(&self, households: &[DocumentId], tertial: lots_core::Tertial) {
        if households.is_empty() {
            return;
        }
        let report = tertial.to_string().replace(' ', "-");
        let at = crate::browser::now();
        {
            let mut queue = self.queue.borrow_mut();
            for household in households {
                let mut read = Read::new(
                    crate::browser::random_id("r"),
                    household,
                    Shown::Report,
                    None,
                    at,
                );
                read.report = Some(report.clone());
                queue.push(read);
            }
        }
        self.store_and_upload();
    }

    fn store_and_upload(&self) {
        let log = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            log.store().await;
            log.upload().await;
        });
    }

    /// Uploads what waits (at the next contact: start, online again, back in view).
    pub fn flush(&self) {
        let log = self.clone();
        wasm_bindgen_futures::spawn_local(async move { log.upload().await });
    }

    /// How many reads wait for the server.
    pub fn waiting(&self) -> usize {
        self.queue.borrow().len()
    }

    async fn store(&self) {
        let queue = self.queue.borrow().clone();
        if let Err(error) = self.storage.set_meta(READS, Some(&queue)).await {
            web_sys::console::warn_1(&format!("the read log was not stored: {error}").into());
        }
    }

    /// Sends batch after batch until none waits or the server cannot be reached (tried again
    /// at the next contact). One upload at a time.
    pub async fn upload(&self) {
        if self.uploading.replace(true) {
            return;
        }
        loop {
            let (batch, dropped) = {
                let queue = self.queue.borrow();
                (queue.batch(), queue.dropped())
            };
            if batch.is_empty() {
                break;
            }
            if dropped > 0 {
                web_sys::console::warn_1(
                    &format!("{dropped} reads were dropped from this device's full read log")
                        .into(),
                );
            }
            match crate::api::log_reads(&batch).await {
                Ok(()) => {
                    self.queue.borrow_mut().answered(&batch);
                    self.store().await;
                }
                Err(_) => break,
            }
        }
        self.uploading.set(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(n: usize) -> Read {
        Read::new(
            format!("r-{n}"),
            &DocumentId::from_bytes([1; 16]),
            Shown::Household,
            None,
            Timestamp::from_millis(1_700_000_000_000 + n as i64),
        )
    }

    #[test]
    fn reads_go_up_oldest_first_in_batches_and_leave_once_answered() {
        let mut queue = ReadQueue::default();
        for n in 0..(ReadQueue::BATCH + 3) {
            queue.push(read(n));
        }
        let first = queue.batch();
        assert_eq!(first.len(), ReadQueue::BATCH);
        assert_eq!(first[0].id, "r-0");
        // Read meanwhile: stays for the next upload.
        queue.push(read(9_999));
        queue.answered(&first);
        let next = queue.batch();
        let ids: Vec<&str> = next.iter().map(|read| read.id.as_str()).collect();
        assert_eq!(ids.len(), 4);
        assert_eq!(ids[0], format!("r-{}", ReadQueue::BATCH));
        assert_eq!(ids[3], "r-9999");
    }

    #[test]
    fn a_full_queue_drops_its_oldest_and_counts_them() {
        let mut queue = ReadQueue::default();
        for n in 0..(ReadQueue::MAX + 2) {
            queue.push(read(n));
        }
        assert_eq!(queue.len(), ReadQueue::MAX);
        assert_eq!(queue.dropped(), 2);
        assert_eq!(queue.batch()[0].id, "r-2");
    }

    #[test]
    fn a_read_travels_as_the_server_reads_it() {
        let visit = Read::new(
            "r-1".into(),
            &DocumentId::from_bytes([1; 16]),
            Shown::Visit,
            Some("v-7".into()),
            Timestamp::from_millis(5),
        );
        let json = serde_json::to_value(&visit).unwrap();
        assert_eq!(json["shown"], "visit");
        assert_eq!(json["visit"], "v-7");
        assert_eq!(json["at"], 5);
        let household = serde_json::to_value(read(0)).unwrap();
        assert!(household.get("visit").is_none());
    }
}
