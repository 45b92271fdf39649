//! `/api/v1/admin/compliance` (the `ting compliance report`, as data or a download) and
//! `/api/v1/admin/health` (how the server runs: version, bundle, store, connections, meetings,
//! media ports — nothing about content).

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use ting_proto::ErrorCode;
use ting_proto::admin::{AdminHealth, ComplianceReport, MediaPort, ReportSection, ReportTable};

use super::require_admin;
use crate::compliance::{self, render};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// The report's title, as `ting compliance report` prints it.
const TITLE: &str = "Ting compliance report";

/// Query of `GET /api/v1/admin/compliance`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ReportFormat {
    /// `json` (default), `markdown` or `html`.
    format: Option<String>,
}

/// The compliance report built now from the live configuration, policy and database.
#[utoipa::path(get, path = "/api/v1/admin/compliance", tag = "admin", security(("bearer" = [])), params(ReportFormat),
    responses((status = 200, body = ComplianceReport, description = "JSON; Markdown or HTML with `format`"),
              (status = 400, body = ting_proto::ErrorBody), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn compliance(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportFormat>,
) -> ApiResult<Response> {
    require_admin(&auth)?;
    let now = state.clock.now_unix();
    let live = compliance::live(&state.config, state.store.as_ref(), now)
        .await
        .map_err(ApiError::internal)?;
    let sections = compliance::sections(&live);
    let file = |text: String, mime: &'static str, name: &'static str| {
        (
            [
                (header::CONTENT_TYPE, mime),
                (header::CONTENT_DISPOSITION, name),
            ],
            text,
        )
            .into_response()
    };
    Ok(match q.format.as_deref().unwrap_or("json") {
        "json" => axum::Json(ComplianceReport {
            title: TITLE.into(),
            generated_at: now,
            sections: sections
                .into_iter()
                .map(|s| ReportSection {
                    heading: s.heading,
                    paragraphs: s.paragraphs,
                    table: s.table.map(|(columns, rows)| ReportTable { columns, rows }),
                })
                .collect(),
        })
        .into_response(),
        "markdown" | "md" => file(
            render::markdown(TITLE, &sections),
            "text/markdown; charset=utf-8",
            "attachment; filename=\"ting-compliance.md\"",
        ),
        "html" => file(
            render::html(TITLE, &sections),
            "text/html; charset=utf-8",
            "attachment; filename=\"ting-compliance.html\"",
        ),
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("format {other:?} is not one of json, markdown, html"),
            ));
        }
    })
}

/// How the server runs now. Counts only: no content, names or addresses of users.
#[utoipa::path(get, path = "/api/v1/admin/health", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = AdminHealth), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn health(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<AdminHealth>> {
    require_admin(&auth)?;
    let store_ok = state.store.ping().await.is_ok();
    let users = if store_ok {
        state.store.count_users().await?
    } else {
        0
    };
    let (connections, connected_devices) = state.hub.counts().await;
    let (meetings, meeting_participants) = state.media.stats().await;
    let mut media_ports = Vec::new();
    let port =
        |protocol: &str, address: Option<std::net::SocketAddr>, r: Result<(), String>| MediaPort {
            protocol: protocol.into(),
            address: address.map(|a| a.to_string()).unwrap_or_default(),
            reachable: r.is_ok(),
            problem: r.err(),
        };
    media_ports.push(port(
        "udp",
        state.media.address(),
        state.media.probe_udp().await,
    ));
    if state.config.media.tcp {
        media_ports.push(port(
            "tcp",
            state.media.tcp_address(),
            state.media.probe_tcp().await,
        ));
    }
    Ok(axum::Json(AdminHealth {
        version: crate::VERSION.into(),
        web_bundle_hash: state.web.hash_hex(),
        store_backend: state.store.backend().as_str().into(),
        store_ok,
        uptime_secs: state
            .clock
            .now()
            .saturating_duration_since(state.started)
            .as_secs(),
        users,
        connections: connections as u64,
        connected_devices: connected_devices as u64,
        meetings: meetings as u64,
        meeting_participants: meeting_participants as u64,
        media_ports,
    }))
}
