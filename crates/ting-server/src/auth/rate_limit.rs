//! Sliding-window counters for login throttling. Sans-IO: the caller passes `now`.
//! Addresses are kept in memory only and never logged.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts events per key within a window.
#[derive(Debug)]
pub struct SlidingWindow {
    window: Duration,
    limit: u32,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SlidingWindow {
    /// At most `limit` events per key in any `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            window,
            limit,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` if `key` has reached the limit at `now`.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let Some(q) = map.get_mut(key) else {
            return Ok(());
        };
        self.expire(q, now);
        if q.len() as u32 >= self.limit {
            let oldest = *q.front().expect("invariant: a full queue is non-empty");
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    /// Records an event for `key` at `now`.
    pub fn record(&self, key: &str, now: Instant) {
        let mut map = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // Bound memory under a flood of distinct keys: drop keys with no recent events.
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let q = map.entry(key.to_string()).or_default();
        self.expire(q, now);
        q.push_back(now);
    }

    /// Forgets `key` (e.g. after a successful login).
    pub fn clear(&self, key: &str) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    fn expire(&self, q: &mut VecDeque<Instant>, now: Instant) {
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            q.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_then_recovers_after_the_window() {
        let w = SlidingWindow::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(w.check("k", t0 + Duration::from_secs(i)).is_ok());
            w.record("k", t0 + Duration::from_secs(i));
        }
        let retry = w.check("k", t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(retry, Duration::from_secs(50));
        assert!(w.check("other", t0).is_ok());
        assert!(w.check("k", t0 + Duration::from_secs(61)).is_ok());
        w.clear("k");
        assert!(w.check("k", t0 + Duration::from_secs(10)).is_ok());
    }
}
