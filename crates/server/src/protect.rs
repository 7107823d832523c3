//! Protections on every request, before any handler: who the client is
//! (through a trusted proxy or not), the same-origin rule for requests that
//! change something and for the WebSocket, and the security headers on
//! every response.

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};

/// Where a request comes from, as far as we can believe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub ip: IpAddr,
    /// Reached over HTTPS: our own TLS, or a trusted proxy's.
    pub https: bool,
}

/// The client of a request from `peer`: `X-Forwarded-For` (its last hop)
/// and `X-Forwarded-Proto` count only when `peer` is a configured proxy.
pub fn client_of(server: &ServerConfig, peer: SocketAddr, headers: &HeaderMap) -> Client {
    let own = Client {
        ip: peer.ip(),
        https: server.tls(),
    };
    if !server.trusted_proxies.contains(&peer.ip()) {
        return own;
    }
    let forwarded_for = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|hop| hop.trim().parse::<IpAddr>().ok());
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().eq_ignore_ascii_case("https"));
    Client {
        ip: forwarded_for.unwrap_or(own.ip),
        https: forwarded_https.unwrap_or(own.https),
    }
}

/// The client of a request the middleware has seen.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Client, ApiError> {
        parts.extensions.get::<Client>().copied().ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the client address is unknown",
            )
        })
    }
}

/// Why a request breaks the same-origin rule, if it does.
///
/// Browsers say where a request comes from (`Sec-Fetch-Site`, `Origin`);
/// one from another site, or another port of this host, is refused when it
/// would change something or open the live socket, so a page elsewhere
/// cannot act with a logged-in user's cookie. Clients that are not browsers
/// send neither header and are judged by their token alone.
pub fn cross_origin(method: &Method, headers: &HeaderMap) -> Option<&'static str> {
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe && !upgrade {
        return None;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" | b"none" => None,
            _ => Some("the request comes from another site (Sec-Fetch-Site)"),
        };
    }
    let origin = headers.get(header::ORIGIN)?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => None,
        _ => Some("the request comes from another origin (Origin)"),
    }
}

/// The Content-Security-Policy of every page: our own scripts, styles,
/// media and socket only; never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; media-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HSTS once the client reached us over HTTPS: a year.
const HSTS: &str = "max-age=31536000";

/// The middleware: notes the client, refuses cross-origin changes, and adds
/// the security headers to whatever the handler answered.
pub async fn guard(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = client_of(&state.config.server, peer, request.headers());
    request.extensions_mut().insert(client);
    let mut response = match cross_origin(request.method(), request.headers()) {
        Some(why) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", why).into_response(),
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    // Pages and answers carry health data: never kept by a browser or a proxy.
    set(headers, header::CACHE_CONTROL, "no-store");
    if client.https {
        set(headers, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn changes_from_another_site_or_port_are_refused() {
        let host = ("host", "127.0.0.1:8080");
        assert_eq!(
            cross_origin(&Method::POST, &headers(&[host])),
            None,
            "not a browser"
        );
        assert_eq!(
            cross_origin(
                &Method::POST,
                &headers(&[host, ("origin", "http://127.0.0.1:8080")])
            ),
            None
        );
        for origin in ["http://127.0.0.1:9999", "https://evil.example", "null"] {
            let h = headers(&[host, ("origin", origin)]);
            assert!(cross_origin(&Method::POST, &h).is_some(), "{origin}");
        }
        for site in ["same-site", "cross-site"] {
            let h = headers(&[host, ("sec-fetch-site", site)]);
            assert!(cross_origin(&Method::PUT, &h).is_some(), "{site}");
        }
        let own = headers(&[host, ("sec-fetch-site", "same-origin")]);
        assert_eq!(cross_origin(&Method::POST, &own), None);
        // Reading is allowed (the cookie is SameSite=Strict); opening the socket is not.
        let elsewhere = headers(&[host, ("origin", "http://127.0.0.1:9999")]);
        assert_eq!(cross_origin(&Method::GET, &elsewhere), None);
        let upgrade = headers(&[
            host,
            ("origin", "http://127.0.0.1:9999"),
            ("upgrade", "websocket"),
        ]);
        assert!(cross_origin(&Method::GET, &upgrade).is_some());
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let forwarded = headers(&[
            ("x-forwarded-for", "10.1.2.3, 192.0.2.7"),
            ("x-forwarded-proto", "https"),
        ]);
        let proxy: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let plain = ServerConfig::default();
        assert_eq!(
            client_of(&plain, proxy, &forwarded),
            Client {
                ip: proxy.ip(),
                https: false
            }
        );
        let behind = ServerConfig {
            trusted_proxies: vec![proxy.ip()],
            ..ServerConfig::default()
        };
        assert_eq!(
            client_of(&behind, proxy, &forwarded),
            Client {
                ip: "192.0.2.7".parse().unwrap(),
                https: true
            }
        );
        let other: SocketAddr = "127.0.0.2:40000".parse().unwrap();
        assert_eq!(client_of(&behind, other, &forwarded).ip, other.ip());
    }
}
