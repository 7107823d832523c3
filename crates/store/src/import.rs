//! CSV import into a contact list: parse on a blocking thread, insert in
//! batches, never stop at a bad row.
//!
//! Memory stays bounded whatever the file size: a few batches in flight and one
//! 8-byte key per distinct number (to skip duplicates within the file). Rows
//! are checked in parallel; phone-number validation is the costly part.

use crate::{ListId, Millis, Store, StoreError};
use sanjeevani_contacts::{ColumnMapping, CsvContacts, CsvError, NewContact, Row, RowError};
use std::collections::HashSet;
use std::io::Read;
use tokio::sync::mpsc;

const BATCH_ROWS: usize = 5_000;

/// Counts at the end of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub imported: u64,
    /// Numbers seen earlier in the file or already in the list.
    pub duplicate: u64,
    pub do_not_call: u64,
    pub invalid: u64,
    /// Rows whose every field was empty.
    pub blank: u64,
}

impl ImportReport {
    pub fn rows(&self) -> u64 {
        self.imported + self.duplicate + self.do_not_call + self.invalid + self.blank
    }
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "imported {}, duplicate {}, do-not-call {}, invalid {}, blank {}",
            self.imported, self.duplicate, self.do_not_call, self.invalid, self.blank
        )
    }
}

/// Where an import stands, for a progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportProgress {
    pub rows: u64,
    pub bytes: u64,
}

/// Why an import stopped. Rows committed before the failure stay committed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One batch from the parsing thread.
struct Batch {
    contacts: Vec<NewContact>,
    errors: Vec<RowError>,
    counts: ImportReport,
    progress: ImportProgress,
}

/// Imports contacts from CSV into `list`. Every bad row goes to `on_error`
/// (line, field, reason) and the import goes on; `on_progress` follows each batch.
pub async fn import_csv<R: Read + Send + 'static>(
    store: &dyn Store,
    input: R,
    list: ListId,
    mapping: &ColumnMapping,
    now: Millis,
    mut on_error: impl FnMut(&RowError),
    mut on_progress: impl FnMut(ImportProgress),
) -> Result<ImportReport, ImportError> {
    let do_not_call = store.do_not_call_keys().await?;
    let (tx, mut rx) = mpsc::channel::<Result<Batch, CsvError>>(2);
    let mapping = mapping.clone();
    let parser = tokio::task::spawn_blocking(move || parse(input, &mapping, &do_not_call, &tx));

    let mut report = ImportReport::default();
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        batch.errors.iter().for_each(&mut on_error);
        let inserted = store.insert_contacts(list, &batch.contacts, now).await?;
        report.imported += inserted;
        report.duplicate += batch.counts.duplicate + (batch.contacts.len() as u64 - inserted);
        report.do_not_call += batch.counts.do_not_call;
        report.invalid += batch.counts.invalid;
        report.blank += batch.counts.blank;
        on_progress(batch.progress);
    }
    parser.await.expect("the CSV parser does not panic");
    Ok(report)
}

fn parse<R: Read>(
    input: R,
    mapping: &ColumnMapping,
    do_not_call: &HashSet<u64>,
    tx: &mpsc::Sender<Result<Batch, CsvError>>,
) {
    let mut reader = match CsvContacts::new(input, mapping) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return;
        }
    };
    let mut seen_numbers: HashSet<u64> = HashSet::new();
    let mut rows = 0u64;
    loop {
        // Read a batch of records on this thread, check them on every core,
        // then sort out duplicates in file order.
        let mut records = Vec::with_capacity(BATCH_ROWS);
        while records.len() < BATCH_ROWS {
            match reader.next_record() {
                Ok(Some(record)) => records.push(record),
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
        let last = records.len() < BATCH_ROWS;
        let parser = reader.parser();
        let parsed: Vec<Row> = records
            .iter()
            .map(|(line, record)| parser.parse(*line, record))
            .collect();
        rows += parsed.len() as u64;

        let mut batch = Batch {
            contacts: Vec::with_capacity(parsed.len()),
            errors: Vec::new(),
            counts: ImportReport::default(),
            progress: ImportProgress {
                rows,
                bytes: reader.bytes_read(),
            },
        };
        for row in parsed {
            match row {
                Row::Contact { contact, .. } => {
                    let key = contact.phone.key();
                    if do_not_call.contains(&key) {
                        batch.counts.do_not_call += 1;
                    } else if !seen_numbers.insert(key) {
                        batch.counts.duplicate += 1;
                    } else {
                        batch.contacts.push(*contact);
                    }
                }
                Row::Invalid(error) => {
                    batch.counts.invalid += 1;
                    batch.errors.push(error);
                }
                Row::Blank { .. } => batch.counts.blank += 1,
            }
        }
        if tx.blocking_send(Ok(batch)).is_err() || last {
            return; // done, or the importer stopped on a store error
        }
    }
}
