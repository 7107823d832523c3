//! Contacts read from a spreadsheet (`.xlsx` or `.ods`), as districts keep
//! their lists: the first sheet, its first non-empty row the header, every
//! later row a record for the same [`RowParser`] as CSV. Rows are numbered as
//! the spreadsheet shows them.
//!
//! Cells become the text a person sees: whole numbers without a decimal point
//! (a phone number typed as a number stays a phone number), dates as
//! `YYYY-MM-DD`, true/false as yes/no, and an error cell as its code (`#N/A`),
//! which the field's check then names.

use crate::csv_rows::{ColumnMapping, CsvError, FilePreview, RowParser};
use calamine::{Data, Range, Reader};
use std::io::Cursor;

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
    range: Range<Data>,
    /// Row index (in `range`) of the next record.
    next: usize,
    /// The spreadsheet's own number of the range's first row, less one.
    first_row: u64,
    parser: RowParser,
}

impl SheetContacts {
    /// Opens the workbook in `bytes`, reads its first sheet and resolves the
    /// mapping against the header row.
    pub fn new(
        bytes: Vec<u8>,
        format: SheetFormat,
        mapping: &ColumnMapping,
    ) -> Result<Self, CsvError> {
        let (range, header_at, headers) = first_sheet(bytes, format)?;
        let first_row = u64::from(range.start().map_or(0, |(row, _)| row));
        let parser = RowParser::new(&headers, mapping)?;
        Ok(SheetContacts {
            range,
            next: header_at + 1,
            first_row,
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

    /// The next record with its row number, `None` after the last.
    pub fn next_record(&mut self) -> Option<(u64, csv::ByteRecord)> {
        let (height, width) = self.range.get_size();
        if self.next >= height {
            return None;
        }
        let row = self.next;
        self.next += 1;
        let mut record = csv::ByteRecord::new();
        for c in 0..width {
            record.push_field(text(self.range.get((row, c))).as_bytes());
        }
        Some((self.first_row + row as u64 + 1, record))
    }

    /// Rows read so far and rows in all, for progress.
    pub fn progress(&self) -> (u64, u64) {
        (self.next as u64, self.range.get_size().0 as u64)
    }

    pub fn parser(&self) -> &RowParser {
        &self.parser
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
