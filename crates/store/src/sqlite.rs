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
    /// The folder and the database's files are the service user's alone
    /// (0700 and 0600): they hold health data.
    pub async fn open_in(dir: &Path) -> Result<Self> {
        let refuse = |e: std::io::Error| StoreError::Url {
            url: dir.display().to_string(),
            reason: format!("cannot create the data directory or make it private: {e}"),
        };
        private_dir(dir).map_err(refuse)?;
        let file = dir.join("sanjeevani.db");
        private_file(&file).map_err(refuse)?;
        Self::with_options(SqliteConnectOptions::new().filename(file)).await
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

/// Creates `dir` (and its parents) if needed and makes it `0700`.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Creates the database file `0600` if it is new, and makes it and its
/// journal files (`-wal`, `-shm`, which SQLite creates with the database's
/// mode) `0600` if they exist.
fn private_file(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

crate::sql::sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    begin = "BEGIN IMMEDIATE",
    lock = ""
);

crate::desk::desk_store!(SqliteStore, sqlx::Sqlite);

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_data_folder_and_database_are_private() {
        let root = tempfile::tempdir().unwrap();
        // An existing folder left world-readable is made private too.
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let store = super::SqliteStore::open_in(&dir).await.unwrap();
        use crate::Desk as _;
        assert!(store.users().await.unwrap().is_empty());
        assert_eq!(mode(&dir), 0o700);
        for name in ["sanjeevani.db", "sanjeevani.db-wal", "sanjeevani.db-shm"] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
        }
    }
}
