//! The shared backend: PostgreSQL, for several dialer nodes on one campaign.

use crate::{Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// Contacts and call records in PostgreSQL.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    const BACKEND: &'static str = "postgres";

    /// Connects to a `postgres://` address and runs the migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Url {
            url: "postgres://…".into(),
            reason: e.to_string(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("../../sql/postgres").run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// Connects to a database created for one test run, dropping it first if it exists.
    #[doc(hidden)]
    pub async fn fresh(server: &str, database: &str) -> Result<Self> {
        let admin = PgPool::connect(&format!("{server}/postgres")).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
        ))
        .execute(&admin)
        .await?;
        sqlx::query(&format!("CREATE DATABASE \"{database}\""))
            .execute(&admin)
            .await?;
        // Test data need not survive a power cut; commits need not wait for the disk.
        sqlx::query(&format!(
            "ALTER DATABASE \"{database}\" SET synchronous_commit = off"
        ))
        .execute(&admin)
        .await?;
        admin.close().await;
        Self::connect(&format!("{server}/{database}")).await
    }
}

crate::sql::sql_store!(
    PostgresStore,
    sqlx::Postgres,
    begin = "BEGIN",
    lock = " FOR UPDATE OF c SKIP LOCKED"
);

crate::desk::desk_store!(PostgresStore, sqlx::Postgres);
