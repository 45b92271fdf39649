//! `/api/v1/admin/audit…`: search the audit log, verify its hash chain now, export it as JSON
//! Lines. Records name who did what to whom; they never hold content.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use ting_proto::ErrorCode;
use ting_proto::admin::{AuditPage, AuditRecordView, AuditVerification};
use ting_store::{AuditQuery, AuditRecord};

use super::{Names, require_admin};
use crate::audit::{self, Entry, Event};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientAddr};
use crate::routes::devices::find_user;
use crate::state::AppState;

/// Records per page unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 50;
/// Most records per page.
const MAX_PAGE: u32 = 500;
/// Records read per store call while exporting.
const EXPORT_CHUNK: u32 = 1000;

/// Filters of the audit routes.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditFilter {
    /// Only this event (e.g. `policy_changed`).
    event: Option<String>,
    /// Only records whose actor is this login name.
    actor: Option<String>,
    /// Only records at or after this Unix time (seconds).
    since: Option<i64>,
    /// Only records at or before this Unix time (seconds).
    until: Option<i64>,
    /// Only records older than this sequence number (the previous page's `next_before`).
    before: Option<u64>,
    /// Records per page (1–500, default 50).
    limit: Option<u32>,
}

impl AuditFilter {
    /// The store query; `None` when the named actor does not exist (nothing can match).
    async fn query(&self, state: &AppState, limit: u32) -> ApiResult<Option<AuditQuery>> {
        let event = self.event.clone().filter(|e| !e.is_empty());
        if let Some(e) = &event
            && !Event::ALL.iter().any(|k| k.as_str() == e)
        {
            return Err(ApiError::new(
                ErrorCode::InvalidInput,
                format!("{e:?} is not an audit event"),
            ));
        }
        let actor = match self.actor.as_deref().filter(|a| !a.is_empty()) {
            Some(name) => match find_user(state, name).await {
                Ok(u) => Some(u.id),
                Err(_) => return Ok(None),
            },
            None => None,
        };
        Ok(Some(AuditQuery {
            event,
            actor,
            since: self.since,
            until: self.until,
            before_seq: self.before,
            limit,
        }))
    }

    fn matches(&self, q: &AuditQuery, r: &AuditRecord) -> bool {
        let rec = &r.record;
        q.event.as_ref().is_none_or(|e| *e == rec.event)
            && q.actor
                .is_none_or(|a| rec.actor_user.as_deref() == Some(&a.to_string()))
            && q.since.is_none_or(|s| rec.at >= s)
            && q.until.is_none_or(|u| rec.at <= u)
    }
}

/// Matching records, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(AuditFilter),
    responses((status = 200, body = AuditPage), (status = 400, body = ting_proto::ErrorBody), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<axum::Json<AuditPage>> {
    require_admin(&auth)?;
    let limit = filter.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    let events = Event::ALL.iter().map(|e| e.as_str().to_owned()).collect();
    let Some(query) = filter.query(&state, limit).await? else {
        return Ok(axum::Json(AuditPage {
            records: Vec::new(),
            next_before: None,
            events,
        }));
    };
    let found = state.store.audit_search(&query).await?;
    let next_before = (found.len() == limit as usize)
        .then(|| found.last().map(|r| r.seq))
        .flatten();
    let mut names = Names::default();
    let mut records = Vec::with_capacity(found.len());
    for r in &found {
        let rec = &r.record;
        records.push(AuditRecordView {
            seq: r.seq,
            at: rec.at,
            event: rec.event.clone(),
            actor: rec.actor_user.clone(),
            actor_name: names.of(&state, rec.actor_user.as_deref()).await?,
            actor_device: rec.actor_device.clone(),
            target: rec.target.clone().or_else(|| rec.target_user.clone()),
            target_name: names.of(&state, rec.target_user.as_deref()).await?,
            client: rec.client_net.clone(),
            details: serde_json::from_str(&rec.details)
                .unwrap_or_else(|_| serde_json::Value::String(rec.details.clone())),
            hash: audit::hex(&r.hash),
        });
    }
    Ok(axum::Json(AuditPage {
        records,
        next_before,
        events,
    }))
}

/// Verifies the whole chain now, from the genesis or the pruning anchor.
#[utoipa::path(get, path = "/api/v1/admin/audit/verify", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = AuditVerification), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<axum::Json<AuditVerification>> {
    require_admin(&auth)?;
    let first_seq = state.store.audit_page(0, 1).await?.first().map(|r| r.seq);
    let out = match ting_store::verify_audit(state.store.as_ref()).await? {
        Ok(report) => AuditVerification {
            ok: true,
            checked: report.checked,
            head_hash: audit::hex(&report.head),
            head_seq: report.anchor.as_ref().map_or(0, |a| a.seq) + report.checked,
            problem: None,
            first_seq,
        },
        Err(brk) => AuditVerification {
            ok: false,
            checked: brk.seq.saturating_sub(first_seq.unwrap_or(1)),
            head_hash: String::new(),
            head_seq: 0,
            problem: Some(format!("record {}: {}", brk.seq, brk.reason)),
            first_seq,
        },
    };
    Ok(axum::Json(out))
}

/// Matching records as JSON Lines, oldest first (`ting audit export` gives the same lines).
/// The export itself is audited.
#[utoipa::path(get, path = "/api/v1/admin/audit/export", tag = "admin", security(("bearer" = [])), params(AuditFilter),
    responses((status = 200, description = "JSON Lines", content_type = "application/x-ndjson"),
              (status = 400, body = ting_proto::ErrorBody), (status = 403, body = ting_proto::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    addr: ClientAddr,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<Response> {
    require_admin(&auth)?;
    let query = filter.query(&state, EXPORT_CHUNK).await?;
    let mut body = String::new();
    let mut count = 0u64;
    if let Some(query) = &query {
        let mut after = 0;
        loop {
            let chunk = state.store.audit_page(after, EXPORT_CHUNK).await?;
            let Some(last) = chunk.last() else { break };
            after = last.seq;
            for r in chunk.iter().filter(|r| filter.matches(query, r)) {
                body.push_str(&audit::to_json(r).to_string());
                body.push('\n');
                count += 1;
            }
        }
    }
    audit::record(
        state.store.as_ref(),
        Entry::new(Event::AuditExported, state.clock.now_unix())
            .actor(auth.user.id, Some(auth.device.id))
            .client(addr.0)
            .details(serde_json::json!({ "via": "api", "records": count })),
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ting-audit.jsonl\"",
            ),
        ],
        body,
    )
        .into_response())
}
