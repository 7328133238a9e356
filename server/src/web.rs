//! Serving the built PWA from `dist/`, and the headers every response carries.

use std::path::Path;

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderValue, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse as _, Response};
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

/// The Content-Security-Policy of every response: only this origin's scripts, WebAssembly
/// allowed to compile, no inline script, no eval, never framed.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// Adds the security and caching headers.
pub async fn headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let failed = !response.status().is_success();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    let cache = if path.starts_with("/api") || path.starts_with("/sync") || failed {
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

/// The router for the web app's files, precompressed variants preferred. A path that names
/// no file of `dist/` gets the page (`index.html`) unless it names a file (it has an
/// extension): a missing script or wasm is a 404, never the page under the script's name,
/// which a service worker would keep and a browser would cache for a year.
pub fn routes<S: Clone + Send + Sync + 'static>(dist: &Path) -> Router<S> {
    let index = dist.join("index.html");
    if !index.exists() {
        return Router::new().fallback(|| async { Html(NOT_BUILT) });
    }
    let page = ServeFile::new(index)
        .precompressed_br()
        .precompressed_gzip();
    let missing = tower::service_fn(move |request: Request| {
        let page = page.clone();
        async move {
            if names_a_file(request.uri().path()) {
                let body = format!(
                    "{} is not part of this version of Lots",
                    request.uri().path()
                );
                return Ok::<_, Infallible>((StatusCode::NOT_FOUND, body).into_response());
            }
            let response = page.oneshot(request).await?;
            Ok(response.map(Body::new))
        }
    });
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(missing);
    Router::new().fallback_service(files)
}

/// Whether the last segment of `path` has an extension (`/lots-web-….js`, `/icons/x.png`).
fn names_a_file(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|file| {
        file.rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && !ext.is_empty())
    })
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

    #[test]
    fn paths_that_name_files_are_told_from_the_apps_own() {
        assert!(names_a_file("/lots-web-3f2a9c0d1e4b5a69_bg.wasm"));
        assert!(names_a_file("/icons/icon-192.png"));
        assert!(!names_a_file("/"));
        assert!(!names_a_file("/desk"));
        assert!(!names_a_file("/.well-known/"));
    }

    /// A built `dist/` with a page and one hashed script.
    fn dist() -> tempfile::TempDir {
        let dist = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dist.path().join("index.html"),
            "<!doctype html><title>Lots</title>",
        )
        .expect("index.html written");
        std::fs::write(
            dist.path().join("lots-web-3f2a9c0d1e4b5a69.js"),
            "export {};",
        )
        .expect("the script written");
        dist
    }

    async fn get(dist: &Path, path: &str) -> (StatusCode, String, String) {
        let app: Router = routes(dist).layer(axum::middleware::from_fn(headers));
        let response = app
            .oneshot(Request::get(path).body(Body::empty()).expect("a request"))
            .await
            .expect("an answer");
        let status = response.status();
        let cache = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .expect("the body")
            .to_bytes();
        (status, cache, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_missing_file_is_a_404_that_nothing_caches_and_the_page_is_served_otherwise() {
        let dist = dist();
        let (status, cache, body) = get(dist.path(), "/lots-web-0000000000000000_bg.wasm").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(cache, "no-store");
        assert!(body.contains("not part of this version"), "{body}");

        let (status, cache, body) = get(dist.path(), "/lots-web-3f2a9c0d1e4b5a69.js").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(cache, "public, max-age=31536000, immutable");
        assert_eq!(body, "export {};");

        for path in ["/", "/desk"] {
            let (status, cache, body) = get(dist.path(), path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert_eq!(cache, "no-cache", "{path}");
            assert!(body.contains("<title>Lots</title>"), "{path}: {body}");
        }
    }
}
