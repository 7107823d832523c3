//! `sanjeevani import contacts`: a CSV file or a spreadsheet (`.xlsx`,
//! `.ods`) into a contact list, with a progress bar on a terminal, a report
//! of every row not imported, and the words the list uses that the mapping
//! should name.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use sanjeevani_contacts::{ColumnMapping, SheetFormat};
use sanjeevani_store::{import_contacts, ContactFile, ImportReport, Skipped, Store};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bad rows printed to the terminal before the rest go only to `--report`.
const ERRORS_SHOWN: usize = 20;

#[derive(clap::Subcommand)]
pub enum What {
    /// Import contacts from a CSV file or a spreadsheet into a list (created if new).
    Contacts {
        /// The file: CSV (UTF-8 with or without BOM, a header row), or an
        /// `.xlsx` or `.ods` spreadsheet (its first sheet, a header row).
        file: PathBuf,
        /// The list to import into.
        #[arg(long)]
        list: String,
        /// Column mapping (TOML): which header holds phone, name, category …
        /// (see config/import-mapping.example.toml). Default: headers named as the fields.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Write every row not imported (line, kind, field, reason) to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
        #[command(flatten)]
        store: crate::StoreArgs,
    },
}

pub async fn run(what: What) -> Result<()> {
    let What::Contacts {
        file,
        list,
        mapping,
        report,
        store,
    } = what;
    let mapping = load_mapping(mapping.as_deref())?;
    let store = store.open().await?;
    let summary = import_file(
        &*store,
        &file,
        &list,
        &mapping,
        report.as_deref(),
        ERRORS_SHOWN,
    )
    .await?;
    println!("{summary}");
    Ok(())
}

fn load_mapping(path: Option<&Path>) -> Result<ColumnMapping> {
    let Some(path) = path else {
        return Ok(ColumnMapping::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid column mapping {}", path.display()))
}

/// Imports `file` into the list `list`; returns the final counts.
pub async fn import_file(
    store: &dyn Store,
    file: &Path,
    list: &str,
    mapping: &ColumnMapping,
    report: Option<&Path>,
    errors_shown: usize,
) -> Result<ImportReport> {
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let format = SheetFormat::from_file_name(&file.to_string_lossy());
    let (source, total) = match format {
        Some(format) => {
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            // Progress counts rows for a spreadsheet: it is read whole first.
            (ContactFile::Sheet(bytes, format), 0)
        }
        None => (ContactFile::Csv(input), size),
    };
    let now = chrono::Utc::now().timestamp_millis();
    let list_id = match store.list_by_name(list).await? {
        Some(id) => id,
        None => store.create_list(list, now).await?,
    };

    let mut report_file = match report {
        Some(path) => {
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            );
            writeln!(w, "line,kind,field,reason")?;
            Some(w)
        }
        None => None,
    };
    let bar = if total > 0 {
        ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{spinner} {bar:30} {bytes}/{total_bytes}  {msg}  {elapsed} elapsed, {eta} left",
            )
            .expect("valid template"),
        )
    } else {
        ProgressBar::new_spinner()
    };
    let mut shown = 0;
    let mut write_error = Ok(());
    let result = import_contacts(
        store,
        source,
        list_id,
        mapping,
        now,
        |skipped: &Skipped| {
            let e = &skipped.error;
            if shown < errors_shown {
                bar.suspend(|| eprintln!("{e}"));
            }
            shown += 1;
            if let Some(w) = report_file.as_mut() {
                if write_error.is_ok() {
                    write_error = writeln!(
                        w,
                        "{},{},{},{}",
                        e.line,
                        skipped.kind.name(),
                        csv_field(&e.field),
                        csv_field(&e.reason)
                    );
                }
            }
        },
        |p| {
            bar.set_position(p.bytes);
            let rate = p.rows as f64 / bar.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!("{} rows, {rate:.0} rows/s", p.rows));
        },
    )
    .await;
    bar.finish_and_clear();
    if shown > errors_shown && errors_shown > 0 {
        let more = shown - errors_shown;
        match report {
            Some(path) => eprintln!("… {more} more rows not imported in {}", path.display()),
            None => {
                eprintln!("… {more} more rows not imported (use --report FILE to list them all)")
            }
        }
    }
    if let Some(mut w) = report_file {
        write_error
            .and_then(|_| w.flush())
            .context("writing the report")?;
    }
    let result = result.with_context(|| format!("importing {}", file.display()))?;
    if !result.unknown_words.is_empty() {
        eprintln!("Words this list uses that the mapping does not name (add a line for each to --mapping):");
        for u in &result.unknown_words {
            eprintln!(
                "  {} rows from line {}: {}",
                u.rows,
                u.first_line,
                u.mapping_line()
            );
        }
    }
    Ok(result)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One backend's import figures.
#[derive(serde::Serialize)]
pub struct ImportBench {
    pub backend: &'static str,
    /// `csv` or `xlsx`.
    pub format: &'static str,
    pub rows: u64,
    pub imported: u64,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// Peak resident memory of the process during this import (VmHWM), MiB.
    pub peak_mib: f64,
}

/// The file kinds the import benchmark writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    Csv,
    Xlsx,
}

impl BenchFormat {
    fn name(self) -> &'static str {
        match self {
            BenchFormat::Csv => "csv",
            BenchFormat::Xlsx => "xlsx",
        }
    }
}

/// Imports the same generated file of `rows` rows, in each of `formats`,
/// into a fresh SQLite file and a fresh PostgreSQL database, one after the
/// other in one run.
pub async fn bench(rows: u64, postgres: &str, formats: &[BenchFormat]) -> Result<Vec<ImportBench>> {
    let dir = std::env::temp_dir().join(format!("sanjeevani-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = bench_in(&dir, rows, postgres, formats).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

async fn bench_in(
    dir: &Path,
    rows: u64,
    postgres: &str,
    formats: &[BenchFormat],
) -> Result<Vec<ImportBench>> {
    let sqlite: std::sync::Arc<dyn Store> = sanjeevani_store::open(None, dir).await?;
    let postgres: std::sync::Arc<dyn Store> = std::sync::Arc::new(
        sanjeevani_store::PostgresStore::fresh(postgres, "sanjeevani_bench_import")
            .await
            .context("PostgreSQL for the import benchmark")?,
    );
    let mut results = Vec::new();
    for &format in formats {
        let file = dir.join(format!("contacts.{}", format.name()));
        match format {
            BenchFormat::Csv => write_sample_csv(&file, rows)?,
            BenchFormat::Xlsx => write_sample_xlsx(&file, rows)?,
        }
        for store in [&sqlite, &postgres] {
            // Each run imports into a list of its own: none of it is a duplicate.
            let list = format!("bench-{}", format.name());
            reset_peak_memory();
            let started = std::time::Instant::now();
            let report =
                import_file(&**store, &file, &list, &ColumnMapping::default(), None, 0).await?;
            let seconds = started.elapsed().as_secs_f64();
            results.push(ImportBench {
                backend: store.backend(),
                format: format.name(),
                rows: report.rows(),
                imported: report.imported,
                seconds,
                rows_per_second: report.rows() as f64 / seconds,
                peak_mib: peak_memory_kib() as f64 / 1024.0,
            });
        }
    }
    Ok(results)
}

const SAMPLE_HEADER: [&str; 10] = [
    "name",
    "phone",
    "category",
    "age",
    "comorbidity",
    "follow_up_start",
    "follow_up_days",
    "district",
    "block",
    "ward",
];

/// Row `i` of a district list: Devanagari and Latin names, every category
/// (in English and Hindi), ages, follow-up dates, a free-form ward column,
/// and one row in a hundred with a bad number.
fn sample_row(i: u64) -> [String; 10] {
    const NAMES: [&str; 6] = [
        "राम शर्मा",
        "सीता देवी",
        "मोहम्मद इक़बाल",
        "Anita Kulkarni",
        "गुरप्रीत कौर",
        "Joseph D'Souza",
    ];
    const CATEGORIES: [&str; 4] = [
        "home isolation",
        "care centre",
        "general public",
        "होम आइसोलेशन",
    ];
    let phone = if i % 100 == 99 {
        format!("98{:03}O{:04}", i % 1000, i % 10_000)
    } else {
        (9_870_000_000 + i).to_string()
    };
    [
        format!("{} {}", NAMES[(i % 6) as usize], i),
        phone,
        CATEGORIES[(i % 4) as usize].to_string(),
        (20 + i % 70).to_string(),
        if i % 7 == 0 { "yes" } else { "no" }.to_string(),
        format!("2026-11-{:02}", 1 + i % 28),
        "14".to_string(),
        "Pune".to_string(),
        format!("Haveli {}", i % 13),
        (i % 40).to_string(),
    ]
}

fn write_sample_csv(path: &Path, rows: u64) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(SAMPLE_HEADER)?;
    for i in 0..rows {
        w.write_record(sample_row(i))?;
    }
    w.flush()?;
    Ok(())
}

/// The same rows as a spreadsheet, as a district keeps them: numbers
/// (phone, age, days, ward) in number cells, the rest as text.
fn write_sample_xlsx(path: &Path, rows: u64) -> Result<()> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in SAMPLE_HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    for i in 0..rows {
        let r = u32::try_from(i + 1).context("too many rows for a spreadsheet")?;
        for (c, value) in sample_row(i).iter().enumerate() {
            match value.parse::<f64>() {
                Ok(n) if c != 5 => sheet.write_number(r, c as u16, n)?,
                _ => sheet.write_string(r, c as u16, value)?,
            };
        }
    }
    book.save(path)?;
    Ok(())
}

fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets the kernel's peak-memory mark so each import is measured on its own.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
