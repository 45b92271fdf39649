//! Prometheus metrics. Labels are routes, outcomes and status classes only — never user, device,
//! room or address.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of `ting_http_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route template, e.g. `/api/v1/devices/{id}`.
    pub route: String,
    /// `2xx`, `4xx`, …
    pub status: String,
}

/// Labels of `ting_logins_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `success`, `failure`, `rate_limited` or `deactivated` (right password, deactivated account).
    pub outcome: String,
}

/// All metrics of the server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// HTTP requests by route and status class.
    pub requests: Family<RequestLabels, Counter>,
    /// Logins by outcome.
    pub logins: Family<OutcomeLabels, Counter>,
    /// Open WebSocket connections.
    pub ws_connections: Gauge,
    /// KeyPackages accepted.
    pub key_packages_uploaded: Counter,
    /// KeyPackages handed out.
    pub key_packages_claimed: Counter,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ting");
        let requests = Family::<RequestLabels, Counter>::default();
        let logins = Family::<OutcomeLabels, Counter>::default();
        let ws_connections = Gauge::default();
        let key_packages_uploaded = Counter::default();
        let key_packages_claimed = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status class",
            requests.clone(),
        );
        registry.register("logins", "Login attempts by outcome", logins.clone());
        registry.register(
            "ws_connections",
            "Open WebSocket connections",
            ws_connections.clone(),
        );
        registry.register(
            "key_packages_uploaded",
            "MLS KeyPackages accepted",
            key_packages_uploaded.clone(),
        );
        registry.register(
            "key_packages_claimed",
            "MLS KeyPackages handed out",
            key_packages_claimed.clone(),
        );
        Self {
            registry,
            requests,
            logins,
            ws_connections,
            key_packages_uploaded,
            key_packages_claimed,
        }
    }

    /// Counts a login outcome.
    pub fn login(&self, outcome: &str) {
        self.logins
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("invariant: writing to a String cannot fail");
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
