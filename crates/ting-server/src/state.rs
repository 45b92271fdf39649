//! Shared application state handed to every handler. Each piece has one owner: the store owns
//! durable state, the [`Hub`] task owns live connections, the limiters own their counters.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ting_store::Store;
use tokio::sync::watch;

use crate::auth::password::Cost;
use crate::auth::rate_limit::SlidingWindow;
use crate::auth::token;
use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;

/// Time source, injected so tests can move the clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Unix seconds.
    fn now_unix(&self) -> i64;
    /// Monotonic now.
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock tests can advance.
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    offset_secs: AtomicI64,
    unix_start: i64,
}

impl ManualClock {
    /// Starts at the current real time.
    pub fn new() -> Self {
        Self {
            base: Instant::now(),
            offset_secs: AtomicI64::new(0),
            unix_start: SystemClock.now_unix(),
        }
    }
    /// Moves the clock forward.
    pub fn advance(&self, d: Duration) {
        self.offset_secs
            .fetch_add(d.as_secs() as i64, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> i64 {
        self.unix_start + self.offset_secs.load(Ordering::SeqCst)
    }
    fn now(&self) -> Instant {
        self.base + Duration::from_secs(self.offset_secs.load(Ordering::SeqCst) as u64)
    }
}

/// The one-time setup token that creates the first administrator. Held only in memory, as a
/// hash; a restart before setup prints a new one.
#[derive(Debug, Default)]
pub struct SetupGate {
    hash: Mutex<Option<Vec<u8>>>,
}

impl SetupGate {
    /// Arms the gate and returns the token to print.
    pub fn arm(&self) -> String {
        let t = token::generate();
        *self.hash.lock().unwrap_or_else(|p| p.into_inner()) = Some(token::hash(&t));
        t
    }

    /// Whether `candidate` is the armed token.
    pub fn matches(&self, candidate: &str) -> bool {
        let guard = self.hash.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_deref()
            .is_some_and(|h| token::constant_time_eq(h, &token::hash(candidate)))
    }

    /// Disarms the gate after use.
    pub fn disarm(&self) {
        *self.hash.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Blobs with an upload in progress: at most one writer per blob.
#[derive(Debug, Default)]
pub struct Uploads {
    active: Mutex<std::collections::HashSet<ting_proto::BlobId>>,
}

/// Held while an upload writes; releases the blob on drop.
#[derive(Debug)]
pub struct UploadGuard<'a> {
    uploads: &'a Uploads,
    id: ting_proto::BlobId,
}

impl Uploads {
    /// Claims the blob for one writer; `None` if another upload holds it.
    pub fn begin(&self, id: ting_proto::BlobId) -> Option<UploadGuard<'_>> {
        let mut set = self.active.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(id).then_some(UploadGuard { uploads: self, id })
    }
}

impl Drop for UploadGuard<'_> {
    fn drop(&mut self) {
        self.uploads
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// Login throttles.
#[derive(Debug)]
pub struct Limiters {
    /// Failed logins per username.
    pub account_failures: SlidingWindow,
    /// Attempts per client address.
    pub address_attempts: SlidingWindow,
    /// Unauthenticated key log requests (witnesses) per client address.
    pub keylog_public: SlidingWindow,
}

/// Everything handlers need.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<Config>,
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Login throttles.
    pub limiters: Arc<Limiters>,
    /// Live connections.
    pub hub: Hub,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// First-admin setup.
    pub setup: Arc<SetupGate>,
    /// Flips to true when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// Uploads in progress.
    pub uploads: Arc<Uploads>,
    /// The meetings' media plane.
    pub media: crate::media::Media,
    /// The web app delivered to browsers.
    pub web: Arc<crate::web::WebBundle>,
    /// The key log (tree, directory, checkpoints).
    pub keylog: Arc<crate::keylog::KeyTransparency>,
    /// When this state was built (the server's start), on its clock.
    pub started: Instant,
}

impl AppState {
    /// Builds the state with the web bundle compiled into the binary; spawns the hub task
    /// (needs a Tokio runtime).
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        // The embedded bundle is checked when it is built into the binary (a unit test loads
        // it), so this cannot fail for a binary that passed its tests.
        let web = crate::web::WebBundle::embedded().expect("the embedded web bundle is consistent");
        Self::with_web(config, store, clock, shutdown, web)
    }

    /// Builds the state serving `web` (already loaded and checked by the caller).
    pub fn with_web(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        shutdown: watch::Receiver<bool>,
        web: crate::web::WebBundle,
    ) -> Self {
        let window = Duration::from_secs(config.auth.rate_window_secs);
        let limiters = Limiters {
            account_failures: SlidingWindow::new(config.auth.max_failures_per_account, window),
            address_attempts: SlidingWindow::new(config.auth.max_attempts_per_address, window),
            keylog_public: SlidingWindow::new(
                config.keylog.public_requests_per_minute,
                Duration::from_secs(60),
            ),
        };
        let keylog = Arc::new(crate::keylog::KeyTransparency::new(&config));
        let media = crate::media::Media::start(&config);
        let started = clock.now();
        Self {
            config: Arc::new(config),
            store,
            clock,
            limiters: Arc::new(limiters),
            hub: Hub::spawn(),
            metrics: Arc::new(Metrics::new()),
            setup: Arc::new(SetupGate::default()),
            shutdown,
            uploads: Arc::new(Uploads::default()),
            media,
            web: Arc::new(web),
            keylog,
            started,
        }
    }

    /// Argon2 cost for new hashes.
    pub fn password_cost(&self) -> Cost {
        Cost {
            memory_kib: self.config.auth.argon2_memory_kib,
            iterations: self.config.auth.argon2_iterations,
        }
    }
}
