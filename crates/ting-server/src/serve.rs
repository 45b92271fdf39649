//! `ting serve`: opens the store, binds the listener (TLS 1.3 via rustls, or plain HTTP on
//! loopback only), prints the one-time setup link on first start and shuts down gracefully on
//! SIGINT/SIGTERM, letting in-flight requests finish before the store closes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use tokio::sync::watch;

use crate::config::Config;
use crate::state::{AppState, SystemClock};

/// Runs the server until a shutdown signal arrives.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let addr = config.listen_addr()?;
    if !config.tls_enabled() && !addr.ip().is_loopback() {
        bail!(
            "refusing to serve plain HTTP on {addr}: browsers allow camera and microphone only in a secure context, \
             and credentials must not cross the network unencrypted. Configure [tls] cert and key \
             (or --tls-cert/--tls-key), or listen on a loopback address such as 127.0.0.1"
        );
    }
    let tls = if config.tls_enabled() {
        Some(tls_config(&config)?)
    } else {
        None
    };
    std::fs::create_dir_all(&config.server.data_dir).with_context(|| {
        format!(
            "creating data directory {}",
            config.server.data_dir.display()
        )
    })?;
    let store = ting_store::open(&config.database_url())
        .await
        .context("opening the database")?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let web = if config.web.dir.is_empty() {
        crate::web::WebBundle::embedded()?
    } else {
        crate::web::WebBundle::from_dir(std::path::Path::new(&config.web.dir))?
    };
    let state = AppState::with_web(
        config.clone(),
        store.clone(),
        Arc::new(SystemClock),
        shutdown_rx,
        web,
    );

    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base = if config.server.public_url.is_empty() {
        format!("{scheme}://{local}")
    } else {
        config.public_url()
    };
    if store.count_users().await? == 0 {
        let token = state.setup.arm();
        // Printed on stderr, never through the logger: the token must not land in log files.
        eprintln!(
            "\nNo administrator exists yet. Open this one-time link to create one:\n\n    {base}/setup#token={token}\n"
        );
    }
    let now = crate::admin::now();
    let records = state
        .keylog
        .load(store.as_ref(), now)
        .await
        .map_err(|e| anyhow::anyhow!("loading the key log: {}", e.message))?;
    let log_key = state
        .keylog
        .verifier_key(store.as_ref(), now)
        .await
        .map_err(|e| anyhow::anyhow!("loading the key log: {}", e.message))?;
    tracing::info!(records, origin = state.keylog.origin(), "key log loaded");
    tracing::info!(address = %local, store = store.backend().as_str(), tls = tls.is_some(), "Ting is listening");
    // The first stdout line is the address (scripts and tests read it); the bundle hash follows.
    println!("Ting listening on {scheme}://{local}");
    println!("{}", state.web.describe());
    println!("Key log verifier key (for witnesses and clients): {log_key}");

    spawn_session_sweeper(state.clone());
    spawn_retention_sweeper(state.clone());
    let handle = Handle::new();
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    tokio::spawn(watch_signals(handle.clone(), shutdown_tx, grace));

    let app = crate::app::router(state).into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(tls) => {
            axum_server::from_tcp_rustls(listener, tls)?
                .handle(handle)
                .serve(app)
                .await?
        }
        None => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(app)
                .await?
        }
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn tls_config(config: &Config) -> anyhow::Result<RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&config.tls.cert)
        .with_context(|| format!("reading tls.cert {}", config.tls.cert))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing tls.cert {}", config.tls.cert))?;
    if certs.is_empty() {
        bail!("tls.cert {} contains no certificate", config.tls.cert);
    }
    let key = PrivateKeyDer::from_pem_file(&config.tls.key)
        .with_context(|| format!("reading tls.key {}", config.tls.key))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("tls.cert and tls.key do not form a valid pair")?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(server)))
}

async fn watch_signals(handle: Handle<SocketAddr>, shutdown: watch::Sender<bool>, grace: Duration) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!(
        grace_secs = grace.as_secs(),
        "shutting down: finishing in-flight requests"
    );
    let _ = shutdown.send(true);
    handle.graceful_shutdown(Some(grace));
}

fn spawn_session_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            match state
                .store
                .delete_expired_sessions(state.clock.now_unix())
                .await
            {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session sweep failed"),
            }
            match state
                .store
                .delete_expired_invitations(state.clock.now_unix())
                .await
            {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired invitation links removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "invitation sweep failed"),
            }
        }
    });
}

/// Deletes expired messages and blobs (and the blob files) by each room's retention, and
/// unfinished uploads older than `files.stale_upload_hours`.
pub async fn sweep_retention(state: &AppState) -> anyhow::Result<(u64, usize)> {
    let now = state.clock.now_unix();
    let messages = state.store.delete_expired_messages(now).await?;
    let stale_before = now - state.config.files.stale_upload_hours * 3600;
    let blobs = state.store.delete_expired_blobs(now, stale_before).await?;
    for id in &blobs {
        let path = state.config.blob_dir().join(id.to_string());
        if let Err(e) = tokio::fs::remove_file(&path).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(error = %e, blob = %id, "could not delete an expired blob file");
        }
    }
    prune_audit(state, now).await?;
    let links = state.store.purge_expired_links(now).await?;
    if links > 0 {
        tracing::debug!(links, "expired link rendezvous removed");
    }
    Ok((messages, blobs.len()))
}

/// Deletes audit records older than `audit.retention_days` (the store keeps the last pruned
/// record's hash as the chain's anchor) and records the pruning itself.
async fn prune_audit(state: &AppState, now: i64) -> anyhow::Result<()> {
    let days = state.config.audit.retention_days;
    if days == 0 {
        return Ok(());
    }
    let before = now.saturating_sub(i64::try_from(days.saturating_mul(86_400)).unwrap_or(i64::MAX));
    let pruned = state.store.prune_audit(before, now).await?;
    if pruned > 0 {
        tracing::info!(pruned, "old audit records pruned");
        crate::audit::record(
            state.store.as_ref(),
            crate::audit::Entry::new(crate::audit::Event::AuditPruned, now)
                .details(serde_json::json!({ "records": pruned, "before": before })),
        )
        .await?;
    }
    Ok(())
}

fn spawn_retention_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(
            state.config.delivery.sweep_interval_secs,
        ));
        loop {
            tick.tick().await;
            match sweep_retention(&state).await {
                Ok((0, 0)) => {}
                Ok((m, b)) => tracing::info!(messages = m, blobs = b, "expired content deleted"),
                Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
            }
        }
    });
}
