//! Contacts read from CSV, one row at a time: the parsing half of an import.
//!
//! The reader streams (one record buffer, whatever the file size), accepts
//! UTF-8 with or without a byte-order mark, CRLF or LF line ends and quoted
//! fields, and never stops at a bad row: each row comes back either as a
//! [`NewContact`] or as a [`RowError`] naming its line, field and reason.
//! Which column holds what is a small [`ColumnMapping`]; headers are also
//! found by their usual English and Hindi names, and words a list uses for a
//! category or a risk are mapped to ours in its `[values]`. Spreadsheets give
//! the same records ([`crate::SheetContacts`]) to the same [`RowParser`].

use crate::{Category, FollowUp, NewContact, Phone, Region, RiskFlag};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{BTreeSet, VecDeque};
use std::io::Read;

/// Which CSV header holds each field. Every field defaults to its own name;
/// headers match case-insensitively. Columns not named here are kept as the
/// contact's free-form attributes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnMapping {
    pub phone: String,
    pub name: String,
    pub language: String,
    pub category: String,
    /// Risk flags separated by `,` `;` or `|`.
    pub risk: String,
    /// An age in years; 60 or more adds the `age_over_60` flag.
    pub age: String,
    /// Yes/no; yes adds the `comorbidity` flag.
    pub comorbidity: String,
    pub follow_up_start: String,
    pub follow_up_days: String,
    pub district: String,
    pub block: String,
    pub timezone: String,
    /// Region for numbers written without a country code.
    pub region: String,
    /// Follow-up days for home-isolation contacts whose row gives a start date but no days.
    pub default_follow_up_days: u16,
    /// The list's own words for categories and risks.
    pub values: ValueMapping,
}

/// A list's own words for our values, e.g. under `[values.category]`
/// `"quarantine at home" = "home_isolation"`. Words match whatever their
/// case, spacing and punctuation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValueMapping {
    pub category: std::collections::BTreeMap<String, Category>,
    pub risk: std::collections::BTreeMap<String, RiskFlag>,
}

impl ValueMapping {
    fn category(&self, word: &str) -> Result<Category, String> {
        let key = crate::record::word_key(word);
        match self
            .category
            .iter()
            .find(|(k, _)| crate::record::word_key(k) == key)
        {
            Some((_, category)) => Ok(*category),
            None => word.parse(),
        }
    }

    fn risk(&self, word: &str) -> Result<RiskFlag, String> {
        let key = crate::record::word_key(word);
        match self
            .risk
            .iter()
            .find(|(k, _)| crate::record::word_key(k) == key)
        {
            Some((_, flag)) => Ok(*flag),
            None => word.parse(),
        }
    }
}

/// The fields a column can hold, in the order a person fills them in.
pub const FIELDS: [&str; 12] = [
    "phone",
    "name",
    "language",
    "category",
    "risk",
    "age",
    "comorbidity",
    "follow_up_start",
    "follow_up_days",
    "district",
    "block",
    "timezone",
];

impl ColumnMapping {
    /// The header the mapping names for `field` (one of [`FIELDS`]).
    pub fn header(&self, field: &str) -> Option<&str> {
        Some(match field {
            "phone" => &self.phone,
            "name" => &self.name,
            "language" => &self.language,
            "category" => &self.category,
            "risk" => &self.risk,
            "age" => &self.age,
            "comorbidity" => &self.comorbidity,
            "follow_up_start" => &self.follow_up_start,
            "follow_up_days" => &self.follow_up_days,
            "district" => &self.district,
            "block" => &self.block,
            "timezone" => &self.timezone,
            _ => return None,
        })
    }

    /// Names the header that holds `field`; an error names an unknown field.
    pub fn set_header(&mut self, field: &str, header: String) -> Result<(), CsvError> {
        let slot = match field {
            "phone" => &mut self.phone,
            "name" => &mut self.name,
            "language" => &mut self.language,
            "category" => &mut self.category,
            "risk" => &mut self.risk,
            "age" => &mut self.age,
            "comorbidity" => &mut self.comorbidity,
            "follow_up_start" => &mut self.follow_up_start,
            "follow_up_days" => &mut self.follow_up_days,
            "district" => &mut self.district,
            "block" => &mut self.block,
            "timezone" => &mut self.timezone,
            _ => {
                return Err(CsvError::Mapping(format!(
                    "no field {field:?}; the fields are {}",
                    FIELDS.join(", ")
                )))
            }
        };
        *slot = header;
        Ok(())
    }
}

/// The column holding `field` whose mapping names `header`: that header, or
/// when the mapping leaves it at the field's own name, one of its usual
/// names ("mobile", "मोबाइल नंबर", "नाम" …).
fn find_column(keys: &[String], field: &str, header: &str) -> Option<usize> {
    let wanted = header_key(header);
    keys.iter().position(|h| *h == wanted).or_else(|| {
        if wanted != header_key(field) {
            return None; // the mapping names its own header
        }
        let aliases = HEADER_ALIASES.iter().find(|(f, _)| *f == field)?.1;
        aliases
            .iter()
            .find_map(|alias| keys.iter().position(|h| *h == header_key(alias)))
    })
}

/// A file's header row and first rows, and which column each field would be
/// read from: what a person checks before importing.
#[derive(Debug, Clone, PartialEq)]
pub struct FilePreview {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Each of [`FIELDS`] with the index of its column, if the file has one.
    pub columns: Vec<(&'static str, Option<usize>)>,
    /// Why the file cannot be imported as mapped (no phone column, say).
    pub problem: Option<String>,
}

impl FilePreview {
    pub(crate) fn new(
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
        mapping: &ColumnMapping,
    ) -> Self {
        let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
        let columns = FIELDS
            .iter()
            .map(|&field| {
                (
                    field,
                    find_column(&keys, field, mapping.header(field).unwrap_or(field)),
                )
            })
            .collect();
        let problem = RowParser::new(&headers, mapping)
            .err()
            .map(|e| e.to_string());
        FilePreview {
            headers,
            rows,
            columns,
            problem,
        }
    }

    /// The header row and the first `rows` records of a CSV file.
    pub fn of_csv<R: Read>(
        input: R,
        mapping: &ColumnMapping,
        rows: usize,
    ) -> Result<Self, CsvError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers: Vec<String> = reader
            .byte_headers()?
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_string()
            })
            .collect();
        let mut records = Vec::new();
        for record in reader.byte_records().take(rows) {
            let record = record?;
            records.push(
                record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            );
        }
        Ok(FilePreview::new(headers, records, mapping))
    }
}

impl Default for ColumnMapping {
    fn default() -> Self {
        ColumnMapping {
            phone: "phone".into(),
            name: "name".into(),
            language: "language".into(),
            category: "category".into(),
            risk: "risk".into(),
            age: "age".into(),
            comorbidity: "comorbidity".into(),
            follow_up_start: "follow_up_start".into(),
            follow_up_days: "follow_up_days".into(),
            district: "district".into(),
            block: "block".into(),
            timezone: "timezone".into(),
            region: "IN".into(),
            default_follow_up_days: 14,
            values: ValueMapping::default(),
        }
    }
}

/// A problem with the file as a whole; nothing can be imported.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("the header row has no {field:?} column (looked for {header:?}; found {found})")]
    MissingColumn {
        field: &'static str,
        header: String,
        found: String,
    },
    #[error("header column {column} is not valid UTF-8")]
    HeaderEncoding { column: usize },
    #[error("{0}")]
    Mapping(String),
    #[error("reading the file: {0}")]
    Read(#[from] csv::Error),
    #[error("reading the spreadsheet: {0}")]
    Sheet(String),
}

/// Why one row was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line in the file where the row starts (the header is line 1); in a
    /// spreadsheet, the row's number.
    pub line: u64,
    pub field: String,
    pub reason: String,
    /// A word the `field` (category or risk) does not know, to be added to
    /// the mapping's `[values]`; the import sums these up by word.
    pub unknown_word: Option<String>,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// What one row turned into.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Contact {
        line: u64,
        contact: Box<NewContact>,
    },
    Invalid(RowError),
    /// Every field empty.
    Blank {
        line: u64,
    },
}

struct Columns {
    phone: usize,
    name: Option<usize>,
    language: Option<usize>,
    category: Option<usize>,
    risk: Option<usize>,
    age: Option<usize>,
    comorbidity: Option<usize>,
    follow_up_start: Option<usize>,
    follow_up_days: Option<usize>,
    district: Option<usize>,
    block: Option<usize>,
    timezone: Option<usize>,
    /// Unmapped columns: (index, header) kept as attributes.
    extra: Vec<(usize, String)>,
}

/// Streams contacts out of a CSV reader.
pub struct CsvContacts<R> {
    reader: csv::Reader<LineTracker<R>>,
    parser: RowParser,
}

/// Turns one CSV record into a [`Row`]. Shareable between threads, so that
/// rows can be checked in parallel while one thread reads the file.
pub struct RowParser {
    columns: Columns,
    width: usize,
    region: Region,
    default_follow_up_days: u16,
    values: ValueMapping,
}

impl<R: Read> CsvContacts<R> {
    /// Reads the header row and resolves the mapping against it.
    pub fn new(input: R, mapping: &ColumnMapping) -> Result<Self, CsvError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(LineTracker::new(input));
        let raw = reader.byte_headers()?.clone();
        let mut headers = Vec::with_capacity(raw.len());
        for (i, h) in raw.iter().enumerate() {
            let h =
                std::str::from_utf8(h).map_err(|_| CsvError::HeaderEncoding { column: i + 1 })?;
            // A byte-order mark is not part of the first header's name.
            headers.push(h.trim_start_matches('\u{feff}').trim().to_string());
        }
        let parser = RowParser::new(&headers, mapping)?;
        Ok(CsvContacts { reader, parser })
    }

    /// Bytes consumed so far, for progress and time-left estimates.
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The next row, `Ok(None)` at the end; `Err` only when the input itself cannot be read.
    pub fn next_row(&mut self) -> Result<Option<Row>, CsvError> {
        Ok(self
            .next_record()?
            .map(|(line, record)| self.parser.parse(line, &record)))
    }

    /// The next record unparsed, with the line it starts on.
    pub fn next_record(&mut self) -> Result<Option<(u64, csv::ByteRecord)>, CsvError> {
        let mut record = csv::ByteRecord::new();
        if !self.reader.read_byte_record(&mut record)? {
            return Ok(None);
        }
        let start = record.position().map_or(0, |p| p.byte());
        Ok(Some((self.reader.get_mut().line_of(start), record)))
    }

    pub fn parser(&self) -> &RowParser {
        &self.parser
    }
}

impl RowParser {
    /// Resolves the mapping against a file's header row. A field whose
    /// header the mapping leaves at its default is also found by its usual
    /// names ("mobile", "मोबाइल नंबर", "नाम" …).
    pub fn new(headers: &[String], mapping: &ColumnMapping) -> Result<Self, CsvError> {
        let region: Region = mapping.region.parse().map_err(CsvError::Mapping)?;
        let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
        let find = |field: &str, header: &str| find_column(&keys, field, header);
        let phone = find("phone", &mapping.phone).ok_or_else(|| CsvError::MissingColumn {
            field: "phone",
            header: mapping.phone.clone(),
            found: headers.join(", "),
        })?;
        let mut columns = Columns {
            phone,
            name: find("name", &mapping.name),
            language: find("language", &mapping.language),
            category: find("category", &mapping.category),
            risk: find("risk", &mapping.risk),
            age: find("age", &mapping.age),
            comorbidity: find("comorbidity", &mapping.comorbidity),
            follow_up_start: find("follow_up_start", &mapping.follow_up_start),
            follow_up_days: find("follow_up_days", &mapping.follow_up_days),
            district: find("district", &mapping.district),
            block: find("block", &mapping.block),
            timezone: find("timezone", &mapping.timezone),
            extra: Vec::new(),
        };
        let mapped: BTreeSet<usize> = [
            Some(columns.phone),
            columns.name,
            columns.language,
            columns.category,
            columns.risk,
            columns.age,
            columns.comorbidity,
            columns.follow_up_start,
            columns.follow_up_days,
            columns.district,
            columns.block,
            columns.timezone,
        ]
        .into_iter()
        .flatten()
        .collect();
        columns.extra = headers
            .iter()
            .enumerate()
            .filter(|(i, h)| !mapped.contains(i) && !h.is_empty())
            .map(|(i, h)| (i, h.clone()))
            .collect();
        Ok(RowParser {
            width: headers.len(),
            columns,
            region,
            default_follow_up_days: mapping.default_follow_up_days,
            values: mapping.values.clone(),
        })
    }

    /// What the record starting on `line` holds.
    pub fn parse(&self, line: u64, record: &csv::ByteRecord) -> Row {
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            return Row::Blank { line };
        }
        if record.len() != self.width {
            return Row::Invalid(RowError {
                line,
                field: "row".into(),
                reason: format!("has {} fields, the header has {}", record.len(), self.width),
                unknown_word: None,
            });
        }
        match self.contact(line, record) {
            Ok(contact) => Row::Contact {
                line,
                contact: Box::new(contact),
            },
            Err(e) => Row::Invalid(e),
        }
    }

    fn contact(&self, line: u64, record: &csv::ByteRecord) -> Result<NewContact, RowError> {
        let fail = |field: &str, reason: String| RowError {
            line,
            field: field.into(),
            reason,
            unknown_word: None,
        };
        let unknown = |field: &str, word: &str, reason: String| RowError {
            unknown_word: Some(word.to_string()),
            ..fail(field, reason)
        };
        let text = |column: Option<usize>, field: &str| -> Result<Option<&str>, RowError> {
            let Some(i) = column else { return Ok(None) };
            let bytes = record.get(i).unwrap_or_default();
            let s = std::str::from_utf8(bytes).map_err(|e| {
                fail(
                    field,
                    format!(
                        "not valid UTF-8 (bad byte at position {})",
                        e.valid_up_to() + 1
                    ),
                )
            })?;
            Ok(Some(s).filter(|s| !s.is_empty()))
        };

        let phone_text = text(Some(self.columns.phone), "phone")?.unwrap_or("");
        let phone =
            Phone::parse(phone_text, self.region).map_err(|e| fail("phone", e.to_string()))?;
        let name = text(self.columns.name, "name")?.unwrap_or("").to_string();
        let language = text(self.columns.language, "language")?.map(str::to_lowercase);
        let category = match text(self.columns.category, "category")? {
            Some(s) => self
                .values
                .category(s)
                .map_err(|e| unknown("category", s, e))?,
            None => Category::GeneralPublic,
        };

        let mut risk = BTreeSet::new();
        if let Some(s) = text(self.columns.risk, "risk")? {
            for flag in s
                .split([',', ';', '|'])
                .map(str::trim)
                .filter(|f| !f.is_empty())
            {
                risk.insert(
                    self.values
                        .risk(flag)
                        .map_err(|e| unknown("risk", flag, e))?,
                );
            }
        }
        if let Some(s) = text(self.columns.age, "age")? {
            let age: u16 = s
                .parse()
                .ok()
                .filter(|a| *a <= 130)
                .ok_or_else(|| fail("age", format!("{s:?} is not an age in years")))?;
            if age >= 60 {
                risk.insert(RiskFlag::AgeOver60);
            }
        }
        if let Some(s) = text(self.columns.comorbidity, "comorbidity")? {
            if parse_yes_no(s)
                .ok_or_else(|| fail("comorbidity", format!("{s:?} is not yes or no")))?
            {
                risk.insert(RiskFlag::Comorbidity);
            }
        }

        let start = text(self.columns.follow_up_start, "follow_up_start")?
            .map(|s| {
                parse_date(s).ok_or_else(|| {
                    fail(
                        "follow_up_start",
                        format!("{s:?} is not a date (YYYY-MM-DD or DD-MM-YYYY)"),
                    )
                })
            })
            .transpose()?;
        let days = text(self.columns.follow_up_days, "follow_up_days")?
            .map(|s| {
                s.parse::<u16>()
                    .ok()
                    .filter(|d| (1..=366).contains(d))
                    .ok_or_else(|| {
                        fail(
                            "follow_up_days",
                            format!("{s:?} is not a number of days from 1 to 366"),
                        )
                    })
            })
            .transpose()?;
        let follow_up = match (start, days) {
            (Some(start), Some(days)) => Some(FollowUp { start, days }),
            (Some(start), None) if category == Category::HomeIsolation => Some(FollowUp {
                start,
                days: self.default_follow_up_days,
            }),
            (None, Some(_)) => {
                return Err(fail(
                    "follow_up_start",
                    "follow-up days given without a start date".into(),
                ))
            }
            _ => None,
        };

        let timezone = text(self.columns.timezone, "timezone")?
            .map(|s| {
                s.parse().map_err(|_| {
                    fail(
                        "timezone",
                        format!("{s:?} is not an IANA time zone such as Asia/Kolkata"),
                    )
                })
            })
            .transpose()?;

        let mut attributes = serde_json::Map::new();
        for (i, header) in &self.columns.extra {
            if let Some(value) = text(Some(*i), header)? {
                attributes.insert(header.clone(), value.into());
            }
        }

        Ok(NewContact {
            phone,
            name,
            language,
            category,
            risk: risk.into_iter().collect(),
            follow_up,
            district: text(self.columns.district, "district")?.map(str::to_string),
            block: text(self.columns.block, "block")?.map(str::to_string),
            timezone,
            attributes,
        })
    }
}

/// Passes bytes through and remembers on which line each byte lies, so that a
/// row is reported at the line an editor shows, whatever the line ends, blank
/// lines or newlines inside quoted fields. (The CSV reader's own line count
/// points at the previous line end for CRLF files and before skipped blank lines.)
struct LineTracker<R> {
    inner: R,
    offset: u64,
    line: u64,
    /// Offset of the last byte of the current line other than a line end.
    content: Option<u64>,
    /// Finished lines that hold content: (line number, offset of their last content byte).
    lines: VecDeque<(u64, u64)>,
    /// The previous byte was CR (so an LF now ends no new line).
    after_cr: bool,
}

impl<R> LineTracker<R> {
    fn new(inner: R) -> Self {
        LineTracker {
            inner,
            offset: 0,
            line: 1,
            content: None,
            lines: VecDeque::new(),
            after_cr: false,
        }
    }

    /// The line of the first content at or after byte `start`. Lines before it
    /// are forgotten: rows arrive in order.
    fn line_of(&mut self, start: u64) -> u64 {
        while let Some(&(line, last)) = self.lines.front() {
            if last >= start {
                return line;
            }
            self.lines.pop_front();
        }
        self.line
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            // A line ends at LF, CRLF or a lone CR, as for the CSV reader.
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    if let Some(last) = self.content.take() {
                        self.lines.push_back((self.line, last));
                    }
                    self.line += 1;
                }
                _ => self.content = Some(self.offset),
            }
            self.offset += 1;
        }
        Ok(n)
    }
}

/// The usual names of each field's column, in English and Hindi, for lists
/// whose headers are their own.
const HEADER_ALIASES: &[(&str, &[&str])] = &[
    (
        "phone",
        &[
            "mobile",
            "mobile no",
            "mobile number",
            "phone number",
            "phone no",
            "contact number",
            "contact no",
            "मोबाइल",
            "मोबाइल नंबर",
            "मोबाइल नं",
            "फ़ोन",
            "फ़ोन नंबर",
            "संपर्क नंबर",
        ],
    ),
    (
        "name",
        &[
            "patient name",
            "full name",
            "नाम",
            "मरीज़ का नाम",
            "रोगी का नाम",
        ],
    ),
    ("language", &["भाषा"]),
    ("category", &["status", "type", "श्रेणी", "स्थिति", "प्रकार"]),
    ("risk", &["risk flags", "risks", "जोखिम"]),
    ("age", &["उम्र", "आयु"]),
    (
        "comorbidity",
        &["comorbidities", "co morbidity", "सह रुग्णता", "अन्य बीमारी"],
    ),
    (
        "follow_up_start",
        &[
            "start date",
            "isolation start",
            "date of isolation",
            "शुरुआत की तारीख़",
            "आइसोलेशन की तारीख़",
        ],
    ),
    ("follow_up_days", &["days", "isolation days", "दिन"]),
    ("district", &["ज़िला"]),
    ("block", &["ब्लॉक"]),
    ("timezone", &["time zone"]),
];

/// A header as compared: lower case, `_` and `-` as spaces, single spaces,
/// and Devanagari without its nukta (ज़ and ज are typed alike).
fn header_key(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace(['_', '-', '.'], " ")
        .replace('\u{093c}', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn parse_yes_no(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "y" | "yes" | "true" | "1" | "हाँ" | "हां" => Some(true),
        "n" | "no" | "false" | "0" | "नहीं" => Some(false),
        _ => None,
    }
}

/// ISO dates, and the day-first dates Indian lists use.
fn parse_date(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_shows_the_first_rows_and_which_column_is_which() {
        let csv =
            "नाम,मोबाइल नंबर,Ward\nAsha,98100 00001,4\nRavi,98100 00002,5\nMeena,98100 00003,6\n";
        let p = FilePreview::of_csv(csv.as_bytes(), &ColumnMapping::default(), 2).unwrap();
        assert_eq!(p.headers, ["नाम", "मोबाइल नंबर", "Ward"]);
        assert_eq!(
            p.rows,
            [["Asha", "98100 00001", "4"], ["Ravi", "98100 00002", "5"]]
        );
        let column = |field| p.columns.iter().find(|(f, _)| *f == field).unwrap().1;
        assert_eq!(
            (column("phone"), column("name"), column("risk")),
            (Some(1), Some(0), None)
        );
        assert_eq!(p.problem, None);

        // The person names a header the file does not have: the file cannot
        // be imported as mapped, and the preview says why.
        let mut mapping = ColumnMapping::default();
        mapping.set_header("phone", "Mobile".into()).unwrap();
        let p = FilePreview::of_csv(csv.as_bytes(), &mapping, 5).unwrap();
        assert_eq!(p.rows.len(), 3);
        assert!(
            p.problem
                .as_deref()
                .unwrap()
                .contains("no \"phone\" column"),
            "{:?}",
            p.problem
        );
        assert!(
            mapping.set_header("mobile", "x".into()).is_err(),
            "not a field"
        );
    }

    fn rows(csv: &[u8]) -> Vec<Row> {
        let mut reader = CsvContacts::new(csv, &ColumnMapping::default()).unwrap();
        std::iter::from_fn(|| reader.next_row().unwrap()).collect()
    }

    fn error(row: &Row) -> (u64, &str) {
        match row {
            Row::Invalid(e) => (e.line, e.field.as_str()),
            other => panic!("expected an invalid row, got {other:?}"),
        }
    }

    #[test]
    fn a_bom_crlf_and_quoted_fields_read_cleanly() {
        let csv = "\u{feff}Name,Phone,Category,Age,Ward\r\n\"शर्मा, राम\",98765 43210,home isolation,67,\"12\"\r\n";
        let rows = rows(csv.as_bytes());
        let Row::Contact { line, contact } = &rows[0] else {
            panic!("{rows:?}")
        };
        assert_eq!(*line, 2);
        assert_eq!(contact.name, "शर्मा, राम");
        assert_eq!(contact.phone.as_str(), "+919876543210");
        assert_eq!(contact.category, Category::HomeIsolation);
        assert_eq!(contact.risk, vec![RiskFlag::AgeOver60]);
        assert_eq!(contact.attributes["Ward"], "12");
    }

    #[test]
    fn each_bad_field_is_named_with_its_line() {
        let csv = b"name,phone,age,follow_up_start,follow_up_days\n\
            a,98765O4321,,,\n\
            b,9876543210,abc,,\n\
            c,9876543211,,31-02-2026,\n\
            d,9876543212\n\
            e,\xff\xfe9876543213,,,\n\
            ,,,,\n\
            f,9876543214,,,5\n";
        let rows = rows(csv);
        assert_eq!(error(&rows[0]), (2, "phone"));
        assert_eq!(error(&rows[1]), (3, "age"));
        assert_eq!(error(&rows[2]), (4, "follow_up_start"));
        assert_eq!(error(&rows[3]), (5, "row"));
        assert_eq!(error(&rows[4]), (6, "phone"));
        assert_eq!(rows[5], Row::Blank { line: 7 });
        assert_eq!(error(&rows[6]), (8, "follow_up_start"));
    }

    #[test]
    fn rows_are_numbered_by_editor_line_for_crlf_blank_lines_and_quoted_newlines() {
        for end in ["\n", "\r\n"] {
            let csv = [
                "phone,note",
                "9876543210,a",
                "",
                "x,\"two",
                "lines\"",
                "9876543212,b",
            ]
            .join(end);
            let lines: Vec<u64> = rows(csv.as_bytes())
                .iter()
                .map(|r| match r {
                    Row::Contact { line, .. } | Row::Blank { line } => *line,
                    Row::Invalid(e) => e.line,
                })
                .collect();
            assert_eq!(lines, [2, 4, 6], "line end {end:?}");
        }
    }

    proptest::proptest! {
        /// Whatever the bytes, reading never panics, every row is accounted for
        /// once, and rows come in file order.
        #[test]
        fn any_input_reads_without_panic_and_in_order(
            body in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b"9876543210".to_vec()),
                    proptest::strategy::Just(b",".to_vec()),
                    proptest::strategy::Just(b"\"".to_vec()),
                    proptest::strategy::Just(b"\r\n".to_vec()),
                    proptest::strategy::Just(b"\n".to_vec()),
                    proptest::collection::vec(proptest::num::u8::ANY, 0..6),
                ],
                0..60,
            )
        ) {
            let mut input = b"name,phone,age\n".to_vec();
            input.extend(body.concat());
            let mut reader = CsvContacts::new(&input[..], &ColumnMapping::default()).unwrap();
            let mut last = 1;
            for _ in 0..input.len() + 1 {
                let Some(row) = reader.next_row().unwrap() else { break };
                let line = match row {
                    Row::Contact { line, .. } | Row::Blank { line } => line,
                    Row::Invalid(e) => e.line,
                };
                proptest::prop_assert!(line > last || line == last && line == 1, "line {line} after {last}");
                last = line;
            }
            proptest::prop_assert!(reader.next_row().unwrap().is_none());
        }
    }

    #[test]
    fn home_isolation_without_days_gets_the_default_follow_up() {
        let csv = "phone,category,follow_up_start\n9876543210,HI,28/11/2026\n";
        let Row::Contact { contact, .. } = &rows(csv.as_bytes())[0] else {
            panic!()
        };
        let f = contact.follow_up.unwrap();
        assert_eq!((f.start.to_string().as_str(), f.days), ("2026-11-28", 14));
    }

    #[test]
    fn a_file_without_a_phone_column_is_refused_naming_what_it_has() {
        let err = CsvContacts::new(&b"name,whatsapp\n"[..], &ColumnMapping::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("name, whatsapp"), "{err}");
    }

    #[test]
    fn headers_are_found_by_their_usual_english_and_hindi_names() {
        let csv = "नाम,मोबाइल नंबर,श्रेणी,उम्र,जिला\nराम,9876543210,होम आइसोलेशन,70,Pune\n";
        let Row::Contact { contact, .. } = &rows(csv.as_bytes())[0] else {
            panic!("{:?}", rows(csv.as_bytes()))
        };
        assert_eq!(contact.name, "राम");
        assert_eq!(contact.category, Category::HomeIsolation);
        assert_eq!(contact.risk, [RiskFlag::AgeOver60]);
        assert_eq!(
            contact.district.as_deref(),
            Some("Pune"),
            "ज़िला typed without its nukta"
        );
        assert!(contact.attributes.is_empty(), "{:?}", contact.attributes);
        // A header the mapping names is that header only.
        let mapping = ColumnMapping {
            phone: "whatsapp".into(),
            ..Default::default()
        };
        assert!(CsvContacts::new(&b"name,mobile\n"[..], &mapping).is_err());
    }
}
