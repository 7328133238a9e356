//! Documents as stored: each is the concatenation of its chunks (a full save, then
//! incremental saves), compacted now and then into one full save; and the household index,
//! which district and staff member each household document belongs to.

use lots_core::automerge::ChangeHash;
use lots_core::{DocumentId, Timestamp};

use super::{Store, StoreError, Writes, parse_document_id};

/// Takes a document's advisory lock until the transaction ends (PostgreSQL): its writers
/// and its compaction take turns.
pub(super) const LOCK_DOCUMENT: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

/// How many chunks a document has.
pub(super) const COUNT_CHUNKS: &str = "SELECT COUNT(*) FROM document_chunks WHERE document_id = $1";

/// Appends one chunk; its position is returned.
pub(super) const INSERT_CHUNK: &str = "INSERT INTO document_chunks (document_id, bytes, created_at) VALUES ($1, $2, $3) RETURNING seq";

/// Writes one household's index entry, replacing what was there.
pub(super) const UPSERT_HOUSEHOLD: &str = "INSERT INTO households (document_id, district_id, assigned_staff, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (document_id) DO UPDATE SET district_id = $2, assigned_staff = $3, updated_at = $4";

/// Records a former holder of a household; a later reassignment away from them moves the
/// time on.
pub(super) const UPSERT_FORMER_HOLDER: &str = "INSERT INTO former_holders (document_id, staff_id, reassigned_at) VALUES ($1, $2, $3) \
     ON CONFLICT (document_id, staff_id) DO UPDATE SET reassigned_at = $3";

/// Heads as the `households.heads` column keeps them: hex hashes, sorted, comma-separated.
pub(super) fn encode_heads(heads: &[ChangeHash]) -> String {
    let mut hex: Vec<String> = heads.iter().map(ToString::to_string).collect();
    hex.sort();
    hex.join(",")
}

/// Reads the `households.heads` column; `None` when it is empty or does not read (then the
/// document is loaded to learn them).
fn decode_heads(column: Option<String>) -> Option<Vec<ChangeHash>> {
    let column = column?;
    if column.is_empty() {
        return None;
    }
    let mut heads = column
        .split(',')
        .map(str::parse::<ChangeHash>)
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    heads.sort();
    Some(heads)
}

/// One household's entry in the stored index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    /// The household.
    pub document: DocumentId,
    /// Its district.
    pub district: Option<String>,
    /// The staff member whose caseload it is in.
    pub assigned_staff: Option<String>,
    /// The document's heads as its stored chunks leave it, sorted; `None` when unknown (not
    /// written since the chunks last changed, or from before heads were kept).
    pub heads: Option<Vec<ChangeHash>>,
}

/// A household's row as a caseload reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdRow {
    /// The household.
    pub document: DocumentId,
    /// Its district.
    pub district: Option<String>,
    /// The staff member whose caseload it is in.
    pub assigned_staff: Option<String>,
    /// Its digest as JSON; `None` until the server first digests it.
    pub digest: Option<String>,
}

impl Store {
    /// Every stored document's bytes (chunks concatenated), for loading at start.
    pub async fn documents(&self) -> Result<Vec<(DocumentId, Vec<u8>)>, StoreError> {
        let rows: Vec<(String, Vec<u8>)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT document_id, bytes FROM document_chunks ORDER BY document_id, seq",
            )
            .fetch_all(pool)
            .await?
        });
        let mut documents: Vec<(DocumentId, Vec<u8>)> = Vec::new();
        for (id, bytes) in rows {
            let id = parse_document_id(&id)?;
            match documents.last_mut() {
                Some((last, stored)) if *last == id => stored.extend(bytes),
                _ => documents.push((id, bytes)),
            }
        }
        Ok(documents)
    }

    /// One document's bytes (its chunks concatenated); `None` when it has none.
    pub async fn document(&self, document: &DocumentId) -> Result<Option<Vec<u8>>, StoreError> {
        let chunks: Vec<Vec<u8>> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT bytes FROM document_chunks WHERE document_id = $1 ORDER BY seq",
            )
            .bind(document.to_string())
            .fetch_all(pool)
            .await?
        });
        Ok((!chunks.is_empty()).then(|| chunks.concat()))
    }

    /// One chunk of a document; `None` when it is gone (compacted into a newer one).
    pub async fn chunk(
        &self,
        document: &DocumentId,
        seq: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT bytes FROM document_chunks WHERE document_id = $1 AND seq = $2",
            )
            .bind(document.to_string())
            .bind(seq)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Appends a chunk (a save or an incremental save) to a document, durably; returns its
    /// position. On PostgreSQL the other server processes hear of it once it is committed.
    pub async fn append_chunk(
        &self,
        document: &DocumentId,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut writes = Writes::default();
        writes.chunk(*document, bytes.to_vec());
        self.commit(&writes, now)
            .await?
            .first()
            .map(|appended| appended.seq)
            .ok_or_else(|| StoreError::Damaged("the appended chunk has no position".into()))
    }

    /// How many chunks a document has.
    pub async fn chunk_count(&self, document: &DocumentId) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(COUNT_CHUNKS)
                .bind(document.to_string())
                .fetch_one(pool)
                .await?
        }))
    }

    /// Replaces a document's chunks with one full save of all of them, in one transaction.
    ///
    /// `from_memory` is shown the stored chunks and may answer with a save of a copy the
    /// caller holds, which it gives only when that copy holds every change in them (the hub
    /// checks with [`lots_core::covered_by`]): loading the stored chunks again costs
    /// milliseconds a household, on the hub's task. Otherwise the save is made here from what
    /// is stored: on a shared PostgreSQL another process may have appended a chunk the caller
    /// has not merged yet, and it must survive. Appends to the document wait on the same lock
    /// meanwhile.
    pub async fn compact(
        &self,
        document: &DocumentId,
        now: Timestamp,
        from_memory: &(dyn Fn(&[u8]) -> Option<Vec<u8>> + Sync),
    ) -> Result<(), StoreError> {
        let select = "SELECT seq, bytes FROM document_chunks WHERE document_id = $1 ORDER BY seq";
        let delete = "DELETE FROM document_chunks WHERE document_id = $1 AND seq <= $2";
        let insert =
            "INSERT INTO document_chunks (document_id, bytes, created_at) VALUES ($1, $2, $3)";
        let _turn = self.writing_turn().await;
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            if self.is_postgres() {
                sqlx::query(LOCK_DOCUMENT)
                    .bind(document.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            let chunks: Vec<(i64, Vec<u8>)> = sqlx::query_as(select)
                .bind(document.to_string())
                .fetch_all(&mut *tx)
                .await?;
            let Some(last) = chunks.last().map(|(seq, _)| *seq) else {
                return Ok(());
            };
            if chunks.len() > 1 {
                let bytes: Vec<u8> = chunks.into_iter().flat_map(|(_, bytes)| bytes).collect();
                let full = match from_memory(&bytes) {
                    Some(full) => full,
                    None => lots_core::load_stored(&bytes)
                        .map_err(|error| {
                            StoreError::Damaged(format!(
                                "document {document} does not load: {error}"
                            ))
                        })?
                        .save(),
                };
                sqlx::query(delete)
                    .bind(document.to_string())
                    .bind(last)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(insert)
                    .bind(document.to_string())
                    .bind(full)
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?
        });
        Ok(())
    }

    /// Records which district and staff member a household belongs to.
    pub async fn index_household(
        &self,
        document: &DocumentId,
        district: Option<&str>,
        assigned_staff: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut writes = Writes::default();
        writes.household(
            *document,
            district.map(str::to_owned),
            assigned_staff.map(str::to_owned),
        );
        self.commit(&writes, now).await?;
        Ok(())
    }

    /// The stored household index: district, assigned staff and stored heads per document.
    pub async fn household_index(&self) -> Result<Vec<IndexRow>, StoreError> {
        type Raw = (String, Option<String>, Option<String>, Option<String>);
        let rows: Vec<Raw> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT document_id, district_id, assigned_staff, heads FROM households")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(id, district, assigned_staff, heads)| {
                Ok(IndexRow {
                    document: parse_document_id(&id)?,
                    district,
                    assigned_staff,
                    heads: decode_heads(heads),
                })
            })
            .collect()
    }

    /// The households a caseload may list: assigned to `staff`, or of one of `districts`.
    pub async fn caseload_rows(
        &self,
        staff: Option<&str>,
        districts: &[String],
    ) -> Result<Vec<HouseholdRow>, StoreError> {
        const COLUMNS: &str =
            "SELECT document_id, district_id, assigned_staff, digest FROM households";
        // Document id, district, assigned staff, digest.
        type Raw = (String, Option<String>, Option<String>, Option<String>);
        let mut rows: Vec<Raw> = Vec::new();
        if let Some(staff) = staff {
            rows.extend(on_pool!(self, |pool| {
                sqlx::query_as(&format!("{COLUMNS} WHERE assigned_staff = $1"))
                    .bind(staff)
                    .fetch_all(pool)
                    .await?
            }));
        }
        for district in districts {
            rows.extend(on_pool!(self, |pool| {
                sqlx::query_as(&format!("{COLUMNS} WHERE district_id = $1"))
                    .bind(district)
                    .fetch_all(pool)
                    .await?
            }));
        }
        let mut households: Vec<HouseholdRow> = rows
            .into_iter()
            .map(|(id, district, assigned_staff, digest)| {
                Ok(HouseholdRow {
                    document: parse_document_id(&id)?,
                    district,
                    assigned_staff,
                    digest,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        households.sort_by_key(|row| row.document);
        households.dedup_by_key(|row| row.document);
        Ok(households)
    }

    /// Keeps a digest made from a household's stored document, unless the household has one
    /// already (the hub wrote a newer one meanwhile).
    pub async fn backfill_digest(
        &self,
        document: &DocumentId,
        digest: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE households SET digest = $2 WHERE document_id = $1 AND digest IS NULL",
            )
            .bind(document.to_string())
            .bind(digest)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// One household's index entry: its district and assigned staff, if it has one.
    pub async fn household(
        &self,
        document: &DocumentId,
    ) -> Result<Option<(Option<String>, Option<String>)>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT district_id, assigned_staff FROM households WHERE document_id = $1",
            )
            .bind(document.to_string())
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Who held which household before it was reassigned, and when it moved away from them:
    /// of one document when `document` is given, else of all.
    pub async fn former_holders(
        &self,
        document: Option<&DocumentId>,
    ) -> Result<Vec<(DocumentId, String, Timestamp)>, StoreError> {
        let rows: Vec<(String, String, i64)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT document_id, staff_id, reassigned_at FROM former_holders \
                 WHERE (CAST($1 AS TEXT) IS NULL OR document_id = $1) ORDER BY document_id, staff_id",
            )
            .bind(document.map(ToString::to_string))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(document, staff, at)| {
                Ok((
                    parse_document_id(&document)?,
                    staff,
                    Timestamp::from_millis(at),
                ))
            })
            .collect()
    }
}
