//! The web app, served from the same origin as the API under the strict Content-Security-Policy
//! set in `app.rs`; nothing is loaded from elsewhere (R10).
//!
//! * `/assets/…` — files of the bundle; their names carry a content hash, so they are cached
//!   for a year (`immutable`).
//! * `/`, `/setup` and every other extensionless GET path outside `/api/` — the app's
//!   `index.html` (`setup.html` for `/setup` where the bundle has one), never cached, so a new
//!   release takes effect on the next load.
//! * other files at the bundle root (e.g. `/favicon.svg`) as they are.
//!
//! The bundle is compiled into the binary (see `build.rs`) or, with `web.dir`, read from a
//! directory at start. Either way it is hashed and its Subresource Integrity attributes are
//! checked before the server listens ([`bundle`]); the hash is printed at start and published at
//! `GET /api/v1/web-bundle`.

pub mod bundle;

use axum::extract::State;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use ting_proto::ErrorCode;
use ting_proto::api::{WebBundleFile, WebBundleInfo};

pub use bundle::WebBundle;

use crate::error::ApiError;
use crate::state::AppState;

/// Fallback for every path no API route matched: web app files for GET/HEAD outside `/api/`,
/// JSON errors otherwise.
pub async fn fallback(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let api =
        path == ting_proto::API_PREFIX || path.starts_with(&format!("{}/", ting_proto::API_PREFIX));
    if api || !(method == Method::GET || method == Method::HEAD) {
        return ApiError::new(ErrorCode::NotFound, "no such route").into_response();
    }
    match resolve(&state.web, path) {
        Some((file, immutable)) => respond(&state.web, file, immutable),
        None => ApiError::new(ErrorCode::NotFound, "no such page or file").into_response(),
    }
}

/// Which bundle file answers `path`, and whether it may be cached for good.
fn resolve<'a>(web: &'a WebBundle, path: &str) -> Option<(&'a str, bool)> {
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|seg| seg == ".." || seg == ".") {
        return None;
    }
    if let Some((file, _)) = web.get_entry(rel) {
        return Some((file, !is_page(file) && rel.starts_with("assets/")));
    }
    let last = rel.rsplit('/').next().unwrap_or_default();
    if rel.starts_with("assets/") || last.contains('.') {
        return None;
    }
    if rel == "setup" && web.get("setup.html").is_some() {
        return Some(("setup.html", false));
    }
    Some(("index.html", false))
}

fn is_page(path: &str) -> bool {
    path.ends_with(".html")
}

fn respond(web: &WebBundle, path: &str, immutable: bool) -> Response {
    let Some(asset) = web.get(path) else {
        return ApiError::new(ErrorCode::NotFound, "no such file").into_response();
    };
    let mut resp = asset.bytes.clone().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    if immutable {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", bundle::hex(&asset.sha256[..16]))) {
        h.insert(header::ETAG, etag);
    }
    resp
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `GET /api/v1/web-bundle`.
#[utoipa::path(get, path = "/api/v1/web-bundle", tag = "ops",
    responses((status = 200, body = WebBundleInfo)))]
pub async fn info(State(state): State<AppState>) -> axum::Json<WebBundleInfo> {
    let web = &state.web;
    axum::Json(WebBundleInfo {
        sha256: web.hash_hex(),
        source: match web.source() {
            bundle::Source::Embedded => "embedded",
            bundle::Source::Placeholder => "placeholder",
            bundle::Source::Dir(_) => "directory",
        }
        .into(),
        files: web
            .files()
            .map(|(path, a)| WebBundleFile {
                path: path.to_owned(),
                size: a.bytes.len() as u64,
                sha256: bundle::hex(&a.sha256),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> WebBundle {
        WebBundle::new(
            [
                ("index.html".to_owned(), b"<p>app".to_vec().into()),
                ("setup.html".to_owned(), b"<p>setup".to_vec().into()),
                ("favicon.svg".to_owned(), b"<svg/>".to_vec().into()),
                ("assets/app-1.js".to_owned(), b"1".to_vec().into()),
            ],
            bundle::Source::Placeholder,
        )
        .unwrap()
    }

    #[test]
    fn paths_resolve_to_pages_and_assets() {
        let w = web();
        assert_eq!(resolve(&w, "/"), Some(("index.html", false)));
        assert_eq!(resolve(&w, "/rooms/abc"), Some(("index.html", false)));
        assert_eq!(resolve(&w, "/setup"), Some(("setup.html", false)));
        assert_eq!(resolve(&w, "/index.html"), Some(("index.html", false)));
        assert_eq!(
            resolve(&w, "/assets/app-1.js"),
            Some(("assets/app-1.js", true))
        );
        assert_eq!(resolve(&w, "/favicon.svg"), Some(("favicon.svg", false)));
        assert_eq!(resolve(&w, "/assets/missing.js"), None);
        assert_eq!(resolve(&w, "/assets/sub"), None);
        assert_eq!(resolve(&w, "/missing.png"), None);
        assert_eq!(resolve(&w, "/assets/../index.html"), None);
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("assets/x.wasm"), "application/wasm");
        assert_eq!(
            content_type("assets/x.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("x.bin"), "application/octet-stream");
    }
}
