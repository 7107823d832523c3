//! Contacts read from a spreadsheet (`.xlsx` or `.ods`), as districts keep
//! their lists: the first sheet, its first non-empty row the header, every
//! later row a record for the same [`RowParser`] as CSV. Rows are numbered as
//! the spreadsheet shows them.
//!
//! An `.xlsx` sheet is read as a stream on a thread of its own, so that its
//! first rows are checked and stored while the rest is still being read; its
//! columns are the header row's. An `.ods` sheet is read whole.
//!
//! Cells become the text a person sees: whole numbers without a decimal point
//! (a phone number typed as a number stays a phone number), dates as
//! `YYYY-MM-DD`, true/false as yes/no, and an error cell as its code (`#N/A`),
//! which the field's check then names.

use crate::csv_rows::{ColumnMapping, CsvError, FilePreview, RowParser};
use calamine::{Data, Range, Reader};
use std::io::Cursor;
use std::sync::mpsc;

/// A spreadsheet's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Xlsx,
    Ods,
}

impl SheetFormat {
    pub const XLSX_TYPE: &'static str =
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    pub const ODS_TYPE: &'static str = "application/vnd.oasis.opendocument.spreadsheet";

    /// By a file name's extension (`.xlsx`, `.ods`).
    pub fn from_file_name(name: &str) -> Option<SheetFormat> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".xlsx") {
            Some(SheetFormat::Xlsx)
        } else if lower.ends_with(".ods") {
            Some(SheetFormat::Ods)
        } else {
            None
        }
    }

    /// By a media type, without its parameters.
    pub fn from_media_type(essence: &str) -> Option<SheetFormat> {
        if essence.eq_ignore_ascii_case(Self::XLSX_TYPE) {
            Some(SheetFormat::Xlsx)
        } else if essence.eq_ignore_ascii_case(Self::ODS_TYPE) {
            Some(SheetFormat::Ods)
        } else {
            None
        }
    }
}

/// The records of a spreadsheet's first sheet.
pub struct SheetContacts {
    rows: Rows,
    parser: RowParser,
}

/// Where a sheet's records come from.
enum Rows {
    /// Read whole (`.ods`).
    Whole {
        range: Range<Data>,
        /// Row index (in `range`) of the next record.
        next: usize,
        /// The spreadsheet's own number of the range's first row, less one.
        first_row: u64,
    },
    /// Read as a stream by a thread (`.xlsx`), row by row.
    Streamed {
        rows: mpsc::Receiver<Result<SheetRow, CsvError>>,
        read: u64,
    },
}

/// A row of a sheet with its number as the spreadsheet shows it.
type SheetRow = (u64, csv::ByteRecord);

/// Rows read ahead of the import: enough to keep both threads busy.
const ROWS_AHEAD: usize = 4096;

impl SheetContacts {
    /// Opens the workbook in `bytes`, reads its first sheet and resolves the
    /// mapping against the header row.
    pub fn new(
        bytes: Vec<u8>,
        format: SheetFormat,
        mapping: &ColumnMapping,
    ) -> Result<Self, CsvError> {
        if format == SheetFormat::Xlsx {
            let (tx, rows) = mpsc::sync_channel(ROWS_AHEAD);
            std::thread::Builder::new()
                .name("xlsx-rows".into())
                .spawn(move || {
                    if let Err(e) = stream_xlsx(bytes, &tx) {
                        let _ = tx.send(Err(e));
                    }
                })
                .map_err(|e| CsvError::Sheet(format!("cannot start reading: {e}")))?;
            let header = match rows.recv() {
                Ok(Ok((_, header))) => header,
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(CsvError::Sheet("the first sheet is empty".into())),
            };
            let headers: Vec<String> = header
                .iter()
                .map(|h| String::from_utf8_lossy(h).into_owned())
                .collect();
            let parser = RowParser::new(&headers, mapping)?;
            return Ok(SheetContacts {
                rows: Rows::Streamed { rows, read: 0 },
                parser,
            });
        }
        let (range, header_at, headers) = first_sheet(bytes, format)?;
        let first_row = u64::from(range.start().map_or(0, |(row, _)| row));
        let parser = RowParser::new(&headers, mapping)?;
        Ok(SheetContacts {
            rows: Rows::Whole {
                range,
                next: header_at + 1,
                first_row,
            },
            parser,
        })
    }

    /// The header row and the first `rows` rows as text, for a person to
    /// check which column is which before importing.
    pub fn preview(
        bytes: Vec<u8>,
        format: SheetFormat,
        mapping: &ColumnMapping,
        rows: usize,
    ) -> Result<FilePreview, CsvError> {
        let (range, header_at, headers) = first_sheet(bytes, format)?;
        let (height, width) = range.get_size();
        let rows = (header_at + 1..height)
            .take(rows)
            .map(|r| (0..width).map(|c| text(range.get((r, c)))).collect())
            .collect();
        Ok(FilePreview::new(headers, rows, mapping))
    }

    /// The next record with its row number, `None` after the last; an
    /// error if the sheet turns out to be damaged part way.
    pub fn next_record(&mut self) -> Result<Option<SheetRow>, CsvError> {
        match &mut self.rows {
            Rows::Whole {
                range,
                next,
                first_row,
            } => {
                let (height, width) = range.get_size();
                if *next >= height {
                    return Ok(None);
                }
                let row = *next;
                *next += 1;
                let mut record = csv::ByteRecord::new();
                for c in 0..width {
                    record.push_field(text(range.get((row, c))).as_bytes());
                }
                Ok(Some((*first_row + row as u64 + 1, record)))
            }
            Rows::Streamed { rows, read } => match rows.recv() {
                Ok(row) => {
                    *read += 1;
                    row.map(Some)
                }
                // The reader is done.
                Err(_) => Ok(None),
            },
        }
    }

    /// Rows read so far, for progress.
    pub fn rows_read(&self) -> u64 {
        match &self.rows {
            Rows::Whole { next, .. } => *next as u64,
            Rows::Streamed { read, .. } => *read,
        }
    }

    pub fn parser(&self) -> &RowParser {
        &self.parser
    }
}

/// Reads the first sheet of the `.xlsx` workbook in `bytes` and sends its
/// header row, then every later row up to the last non-empty one (blank
/// rows included, for the import to count), each as wide as the header.
/// Stops early if nobody receives any more.
fn stream_xlsx(
    bytes: Vec<u8>,
    tx: &mpsc::SyncSender<Result<SheetRow, CsvError>>,
) -> Result<(), CsvError> {
    let sheet = |e: &dyn std::fmt::Display| CsvError::Sheet(e.to_string());
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| sheet(&e))?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| CsvError::Sheet("the workbook has no sheet".into()))?;
    let mut cells = book.worksheet_cells_reader(&name).map_err(|e| sheet(&e))?;
    let mut rows = RowAssembler::default();
    let mut row: Vec<(u32, String)> = Vec::new();
    let mut row_at = 0u32;
    while let Some(cell) = cells.next_cell().map_err(|e| sheet(&e))? {
        let (r, c) = cell.get_position();
        let value = text(Some(&Data::from(cell.get_value().clone())));
        if value.is_empty() {
            continue;
        }
        if r != row_at && !row.is_empty() {
            if !rows.send(row_at, std::mem::take(&mut row), tx) {
                return Ok(());
            }
        }
        row_at = r;
        row.push((c, value));
    }
    if !row.is_empty() {
        rows.send(row_at, row, tx);
    }
    if rows.columns.is_none() {
        return Err(CsvError::Sheet("the first sheet is empty".into()));
    }
    Ok(())
}

/// Turns a streamed sheet's non-empty cells, row by row, into records.
#[derive(Default)]
struct RowAssembler {
    /// The header's first column and its width, once the header is read.
    columns: Option<(u32, usize)>,
    /// The last row sent (zero-based).
    last: u32,
}

impl RowAssembler {
    /// Sends row `at` (zero-based) with its cells: the first is the header,
    /// whose columns every later row keeps; before a later row, a blank
    /// record for each row skipped. `false` once nobody listens.
    fn send(
        &mut self,
        at: u32,
        cells: Vec<(u32, String)>,
        tx: &mpsc::SyncSender<Result<SheetRow, CsvError>>,
    ) -> bool {
        let (first, width) = match self.columns {
            Some(columns) => {
                for blank in self.last + 1..at {
                    let record: csv::ByteRecord = std::iter::repeat_n("", columns.1).collect();
                    if tx.send(Ok((u64::from(blank) + 1, record))).is_err() {
                        return false;
                    }
                }
                columns
            }
            None => {
                let low = cells.iter().map(|(c, _)| *c).min().unwrap_or(0);
                let high = cells.iter().map(|(c, _)| *c).max().unwrap_or(0);
                *self.columns.insert((low, (high - low) as usize + 1))
            }
        };
        let mut fields = vec![String::new(); width];
        for (c, value) in cells {
            if let Some(field) = c
                .checked_sub(first)
                .and_then(|i| fields.get_mut(i as usize))
            {
                *field = value;
            }
        }
        self.last = at;
        tx.send(Ok((u64::from(at) + 1, fields.iter().collect())))
            .is_ok()
    }
}

/// The first sheet of the workbook in `bytes`, the index of its header row
/// (its first non-empty one) and the headers.
fn first_sheet(
    bytes: Vec<u8>,
    format: SheetFormat,
) -> Result<(Range<Data>, usize, Vec<String>), CsvError> {
    let cursor = Cursor::new(bytes);
    let sheet = |e: &dyn std::fmt::Display| CsvError::Sheet(e.to_string());
    let first = match format {
        SheetFormat::Xlsx => {
            let mut book: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(cursor).map_err(|e| sheet(&e))?;
            book.worksheet_range_at(0).map(|r| r.map_err(|e| sheet(&e)))
        }
        SheetFormat::Ods => {
            let mut book: calamine::Ods<_> =
                calamine::open_workbook_from_rs(cursor).map_err(|e| sheet(&e))?;
            book.worksheet_range_at(0).map(|r| r.map_err(|e| sheet(&e)))
        }
    };
    let range = first.ok_or_else(|| CsvError::Sheet("the workbook has no sheet".into()))??;
    let (height, width) = range.get_size();
    let header_at = (0..height)
        .find(|&r| (0..width).any(|c| !text(range.get((r, c))).is_empty()))
        .ok_or_else(|| CsvError::Sheet("the first sheet is empty".into()))?;
    let headers: Vec<String> = (0..width)
        .map(|c| text(range.get((header_at, c))))
        .collect();
    Ok((range, header_at, headers))
}

/// A cell as its text.
fn text(cell: Option<&Data>) -> String {
    match cell {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.trim().to_string(),
        Some(Data::Int(i)) => i.to_string(),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(Data::Float(f)) => f.to_string(),
        Some(Data::Bool(b)) => if *b { "yes" } else { "no" }.to_string(),
        Some(Data::DateTime(d)) => match d.as_datetime() {
            Some(at) if d.is_datetime() => at.date().format("%Y-%m-%d").to_string(),
            _ => d.as_f64().to_string(),
        },
        Some(Data::DateTimeIso(s)) => s
            .get(..10)
            .filter(|_| s.len() >= 10)
            .unwrap_or(s)
            .to_string(),
        Some(Data::DurationIso(s)) => s.clone(),
        Some(Data::Error(e)) => e.to_string(),
    }
}
