//! Static pages served from the binary: the landing page and the first-administrator setup page.
//! Same origin only, under a strict Content-Security-Policy (set for every response in
//! `app.rs`); nothing is loaded from elsewhere.

use axum::http::header;
use axum::response::IntoResponse;

/// `GET /`.
pub async fn index() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../../assets/index.html"),
    )
}

/// `GET /setup`.
pub async fn setup_page() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../../assets/setup.html"),
    )
}

/// `GET /assets/setup.js`.
pub async fn setup_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/setup.js"),
    )
}

/// `GET /assets/style.css`.
pub async fn style_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../assets/style.css"),
    )
}
