//! Contact import into a list, from CSV or a spreadsheet: parse on a blocking
//! thread, insert in batches, never stop at a bad row.
//!
//! Memory stays bounded whatever the CSV file's size: a few batches in flight
//! and, per distinct number, its key and first line (to name duplicates
//! within the file). A spreadsheet is read whole first (its format needs
//! it). Every row that is not imported is reported by line: bad rows with
//! their field and reason, duplicates with the line they repeat or as
//! already in the list, do-not-call numbers; words a list uses for a
//! category or risk that we do not know are summed up once by word.

use crate::{ListId, Millis, Store, StoreError};
use sanjeevani_contacts::{
    ColumnMapping, CsvContacts, CsvError, NewContact, Row, RowError, SheetContacts, SheetFormat,
};
use std::collections::{BTreeMap, HashMap, HashSet};
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
    /// Words the list uses for a category or risk that are not ours, each
    /// once with how many rows used it.
    pub unknown_words: Vec<UnknownWord>,
}

/// A word a list uses that the import does not know, and what to add to the
/// mapping file so that it does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnknownWord {
    /// `category` or `risk`.
    pub field: String,
    pub word: String,
    pub rows: u64,
    /// The first line using it.
    pub first_line: u64,
}

impl UnknownWord {
    /// The line to add under `[values.<field>]` in the mapping file, with
    /// the value still to choose.
    pub fn mapping_line(&self) -> String {
        let choices = match self.field.as_str() {
            "category" => "home_isolation | care_centre | general_public",
            _ => "age_over_60 | comorbidity | pregnant | lives_alone",
        };
        format!("[values.{}] {:?} = \"<{choices}>\"", self.field, self.word)
    }
}

/// What an import was given.
pub enum ContactFile<R> {
    Csv(R),
    Sheet(Vec<u8>, SheetFormat),
}

/// Why a row was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    Invalid,
    Duplicate,
    DoNotCall,
}

impl SkipKind {
    pub fn name(self) -> &'static str {
        match self {
            SkipKind::Invalid => "invalid",
            SkipKind::Duplicate => "duplicate",
            SkipKind::DoNotCall => "do_not_call",
        }
    }
}

/// A row not imported: its line, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub kind: SkipKind,
    pub error: RowError,
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
    /// The line each of `contacts` came from.
    lines: Vec<u64>,
    skipped: Vec<Skipped>,
    counts: ImportReport,
    progress: ImportProgress,
}

/// Imports contacts from CSV into `list`: see [`import_contacts`].
pub async fn import_csv<R: Read + Send + 'static>(
    store: &dyn Store,
    input: R,
    list: ListId,
    mapping: &ColumnMapping,
    now: Millis,
    on_skip: impl FnMut(&Skipped),
    on_progress: impl FnMut(ImportProgress),
) -> Result<ImportReport, ImportError> {
    import_contacts(
        store,
        ContactFile::Csv(input),
        list,
        mapping,
        now,
        on_skip,
        on_progress,
    )
    .await
}

/// Imports contacts from `file` into `list`. Every row not imported goes to
/// `on_skip` (line, field, reason) and the import goes on; `on_progress`
/// follows each batch.
pub async fn import_contacts<R: Read + Send + 'static>(
    store: &dyn Store,
    file: ContactFile<R>,
    list: ListId,
    mapping: &ColumnMapping,
    now: Millis,
    mut on_skip: impl FnMut(&Skipped),
    mut on_progress: impl FnMut(ImportProgress),
) -> Result<ImportReport, ImportError> {
    let do_not_call = store.do_not_call_keys().await?;
    let (tx, mut rx) = mpsc::channel::<Result<Batch, CsvError>>(2);
    let mapping = mapping.clone();
    let parser = tokio::task::spawn_blocking(move || {
        let records = match file {
            ContactFile::Csv(input) => CsvContacts::new(input, &mapping).map(Records::Csv),
            ContactFile::Sheet(bytes, format) => {
                SheetContacts::new(bytes, format, &mapping).map(|s| Records::Sheet(Box::new(s)))
            }
        };
        match records {
            Ok(records) => parse(records, &do_not_call, &tx),
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
            }
        }
    });

    let mut report = ImportReport::default();
    let mut unknown: BTreeMap<(String, String), UnknownWord> = BTreeMap::new();
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        for skipped in &batch.skipped {
            if let Some(word) = &skipped.error.unknown_word {
                unknown
                    .entry((skipped.error.field.clone(), word.to_lowercase()))
                    .or_insert_with(|| UnknownWord {
                        field: skipped.error.field.clone(),
                        word: word.clone(),
                        rows: 0,
                        first_line: skipped.error.line,
                    })
                    .rows += 1;
            }
            on_skip(skipped);
        }
        let present = store.insert_contacts(list, &batch.contacts, now).await?;
        for &i in &present {
            on_skip(&Skipped {
                kind: SkipKind::Duplicate,
                error: RowError {
                    line: batch.lines[i],
                    field: "phone".into(),
                    reason: "the list has this number already".into(),
                    unknown_word: None,
                },
            });
        }
        report.imported += (batch.contacts.len() - present.len()) as u64;
        report.duplicate += batch.counts.duplicate + present.len() as u64;
        report.do_not_call += batch.counts.do_not_call;
        report.invalid += batch.counts.invalid;
        report.blank += batch.counts.blank;
        on_progress(batch.progress);
    }
    parser.await.expect("the contact parser does not panic");
    report.unknown_words = unknown.into_values().collect();
    report
        .unknown_words
        .sort_by(|a, b| b.rows.cmp(&a.rows).then(a.first_line.cmp(&b.first_line)));
    Ok(report)
}

/// Where records come from.
enum Records<R> {
    Csv(CsvContacts<R>),
    Sheet(Box<SheetContacts>),
}

impl<R: Read> Records<R> {
    fn next_record(&mut self) -> Result<Option<(u64, sanjeevani_contacts::ByteRecord)>, CsvError> {
        match self {
            Records::Csv(c) => c.next_record(),
            Records::Sheet(s) => s.next_record(),
        }
    }

    fn parser(&self) -> &sanjeevani_contacts::RowParser {
        match self {
            Records::Csv(c) => c.parser(),
            Records::Sheet(s) => s.parser(),
        }
    }

    /// Bytes read so far for CSV; rows read so far for a spreadsheet.
    fn position(&self) -> u64 {
        match self {
            Records::Csv(c) => c.bytes_read(),
            Records::Sheet(s) => s.rows_read(),
        }
    }
}

fn parse<R: Read>(
    mut reader: Records<R>,
    do_not_call: &HashSet<u64>,
    tx: &mpsc::Sender<Result<Batch, CsvError>>,
) {
    // Each number's first line, to name what a duplicate repeats.
    let mut seen_numbers: HashMap<u64, u64> = HashMap::new();
    let mut rows = 0u64;
    loop {
        // Read a batch of records on this thread, then sort out duplicates
        // in file order.
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
            lines: Vec::with_capacity(parsed.len()),
            skipped: Vec::new(),
            counts: ImportReport::default(),
            progress: ImportProgress {
                rows,
                bytes: reader.position(),
            },
        };
        for row in parsed {
            match row {
                Row::Contact { contact, line } => {
                    let key = contact.phone.key();
                    let skip = |kind, reason: String| Skipped {
                        kind,
                        error: RowError {
                            line,
                            field: "phone".into(),
                            reason,
                            unknown_word: None,
                        },
                    };
                    if do_not_call.contains(&key) {
                        batch.counts.do_not_call += 1;
                        batch
                            .skipped
                            .push(skip(SkipKind::DoNotCall, "on the do-not-call list".into()));
                    } else if let Some(first) = seen_numbers.get(&key) {
                        batch.counts.duplicate += 1;
                        batch.skipped.push(skip(
                            SkipKind::Duplicate,
                            format!("the same number as line {first}"),
                        ));
                    } else {
                        seen_numbers.insert(key, line);
                        batch.contacts.push(*contact);
                        batch.lines.push(line);
                    }
                }
                Row::Invalid(error) => {
                    batch.counts.invalid += 1;
                    batch.skipped.push(Skipped {
                        kind: SkipKind::Invalid,
                        error,
                    });
                }
                Row::Blank { .. } => batch.counts.blank += 1,
            }
        }
        if tx.blocking_send(Ok(batch)).is_err() || last {
            return; // done, or the importer stopped on a store error
        }
    }
}
