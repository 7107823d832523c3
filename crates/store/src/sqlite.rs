//! The embedded backend: one SQLite file in WAL mode, one dialer node.

use crate::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Contacts and call records in a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";

    /// Opens (creating if needed) `dir/sanjeevani.db`, creating `dir` too.
    pub async fn open_in(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Url {
            url: dir.display().to_string(),
            reason: format!("cannot create the data directory: {e}"),
        })?;
        Self::with_options(SqliteConnectOptions::new().filename(dir.join("sanjeevani.db"))).await
    }

    /// Opens a `sqlite:` address, e.g. `sqlite:data/sanjeevani.db` or `sqlite::memory:`.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url).map_err(|e| StoreError::Url {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        Self::with_options(options).await
    }

    async fn with_options(options: SqliteConnectOptions) -> Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL survives a process crash; only power loss can lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 64 MiB of page cache per connection (the default is 2 MiB): imports of a
            // million contacts keep their index pages in memory.
            .pragma("cache_size", "-65536");
        // An in-memory database lives in one connection.
        let in_memory = options.get_filename() == Path::new(":memory:");
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 4 })
            .connect_with(options)
            .await?;
        sqlx::migrate!("../../sql/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

crate::sql::sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    begin = "BEGIN IMMEDIATE",
    lock = ""
);

crate::desk::desk_store!(SqliteStore, sqlx::Sqlite);
