//! Serving the built PWA from `dist/`, and the headers every response carries.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderValue, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::middleware::Next;
use axum::response::{Html, Response};
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;

/// The Content-Security-Policy of every response: only this origin's scripts, WebAssembly
/// allowed to compile, no inline script, no eval, never framed.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// Adds the security and caching headers.
pub async fn headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let cache = if path.starts_with("/api") || path.starts_with("/sync") {
        "no-store"
    } else if is_hashed_asset(&path) {
        "public, max-age=31536000, immutable"
    } else {
        // index.html, the service worker and the manifest must be revalidated to update.
        "no-cache"
    };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// Trunk names built assets `name-<16 hex digits>.ext`.
fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.split('.').next().unwrap_or("").trim_end_matches("_bg");
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The router for the web app's files, precompressed variants preferred.
pub fn routes(dist: &Path) -> Router<AppState> {
    let index = dist.join("index.html");
    if !index.exists() {
        return Router::new().fallback(|| async { Html(NOT_BUILT) });
    }
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    Router::new().fallback_service(files)
}

const NOT_BUILT: &str = "<!doctype html><html lang=\"sv\"><meta charset=\"utf-8\"><title>Lots</title>\
<h1>Lots</h1><p>The sync server is running, but the web app has not been built into <code>dist/</code>.</p>\
<p>Servern är igång, men webbappen är inte byggd.</p></html>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_recognised() {
        assert!(is_hashed_asset("/lots-web-3f2a9c0d1e4b5a69_bg.wasm"));
        assert!(is_hashed_asset("/lots-web-3f2a9c0d1e4b5a69.js"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/service-worker.js"));
    }
}
