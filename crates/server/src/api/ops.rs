//! Operations: Prometheus metrics, liveness and readiness.

use crate::auth::{token_of, Caller};
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sanjeevani_store::Role;

/// Prometheus text format. Readable with the configured metrics token or by
/// an admin or supervisor session.
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Result<Caller, ApiError>,
) -> ApiResult<String> {
    let token = &state.config.auth.metrics_token;
    let by_token = !token.is_empty()
        && token_of(&headers).is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes()));
    if !by_token {
        caller?.require(&[Role::Admin, Role::Supervisor], "read metrics")?;
    }
    for view in state.centre.views() {
        let campaign = view.campaign.0.to_string();
        metrics::gauge!("sanjeevani_abandon_rate", "campaign" => campaign.clone())
            .set(view.abandon.rate);
        metrics::gauge!("sanjeevani_dial_level", "campaign" => campaign.clone())
            .set(view.dial_level);
        let mut by_state = std::collections::BTreeMap::<&str, u32>::new();
        for a in &view.agents {
            *by_state.entry(a.state).or_default() += 1;
        }
        for s in [
            "logged out",
            "paused",
            "ready",
            "reserved",
            "on call",
            "in wrap-up",
        ] {
            let n = by_state.get(s).copied().unwrap_or(0);
            metrics::gauge!("sanjeevani_agents", "campaign" => campaign.clone(), "state" => s.replace(' ', "_"))
                .set(f64::from(n));
        }
    }
    Ok(state.metrics.render())
}

/// Compares two secrets in time that depends only on their lengths, so a
/// guesser learns nothing from how fast a wrong one is refused.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    // Compare digests: equal lengths, and the expected length stays hidden.
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the store answers.
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    match state.store.campaigns().await {
        Ok(_) => Ok("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: store");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the store does not answer",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_match_only_themselves() {
        assert!(super::same_secret(b"scrape-token", b"scrape-token"));
        assert!(!super::same_secret(b"scrape-toke", b"scrape-token"));
        assert!(!super::same_secret(b"scrape-tokeN", b"scrape-token"));
        assert!(!super::same_secret(b"", b"scrape-token"));
    }
}
