//! Bookkeeping of the load phase: end-to-end latencies with percentiles, and each receiver's
//! view of every sender's sequence (missing, duplicated and out-of-order deliveries).
//!
//! Everything here is plain data without I/O so it can be tested on its own.

use serde::Serialize;

/// Latency samples in microseconds.
#[derive(Clone, Debug, Default)]
pub struct Latencies {
    samples_us: Vec<u64>,
    sorted: bool,
}

impl Latencies {
    /// Records one sample.
    pub fn record(&mut self, us: u64) {
        self.samples_us.push(us);
        self.sorted = false;
    }

    /// Adds all samples of `other`.
    pub fn merge(&mut self, other: Latencies) {
        self.samples_us.extend(other.samples_us);
        self.sorted = false;
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples_us.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.samples_us.is_empty()
    }

    /// The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method, in microseconds; `None`
    /// without samples.
    pub fn percentile(&mut self, p: f64) -> Option<u64> {
        if self.samples_us.is_empty() {
            return None;
        }
        if !self.sorted {
            self.samples_us.sort_unstable();
            self.sorted = true;
        }
        let n = self.samples_us.len();
        let rank = ((p.clamp(0.0, 100.0) / 100.0) * n as f64).ceil() as usize;
        self.samples_us.get(rank.clamp(1, n) - 1).copied()
    }

    /// p50, p90, p99 and the maximum, in milliseconds.
    pub fn summary(&mut self) -> LatencySummary {
        let ms = |v: Option<u64>| v.map_or(0.0, |us| us as f64 / 1000.0);
        LatencySummary {
            samples: self.len() as u64,
            p50_ms: ms(self.percentile(50.0)),
            p90_ms: ms(self.percentile(90.0)),
            p99_ms: ms(self.percentile(99.0)),
            max_ms: ms(self.percentile(100.0)),
        }
    }
}

/// Percentiles of a latency distribution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub samples: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Largest, ms.
    pub max_ms: f64,
}

/// What one receiver saw of one sender's numbered messages `0..expected`.
#[derive(Clone, Debug)]
struct SenderTrack {
    seen: Vec<bool>,
    highest: Option<u64>,
}

/// Integrity counters, summed over receivers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Integrity {
    /// Deliveries of distinct expected messages.
    pub delivered: u64,
    /// Expected messages never delivered.
    pub missing: u64,
    /// Messages delivered more than once.
    pub duplicated: u64,
    /// Messages delivered after a later message of the same sender.
    pub out_of_order: u64,
    /// Messages from a sender that is not expected, with a sequence outside the plan, or whose
    /// claimed sender is not the device the server names.
    pub unexpected: u64,
}

impl Integrity {
    /// Adds `other`'s counters.
    pub fn add(&mut self, other: &Integrity) {
        self.delivered += other.delivered;
        self.missing += other.missing;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.unexpected += other.unexpected;
    }

    /// Whether nothing went wrong.
    pub fn is_clean(&self) -> bool {
        self.missing == 0 && self.duplicated == 0 && self.out_of_order == 0 && self.unexpected == 0
    }
}

/// One receiver's order check over a fixed set of senders, each sending `0..per_sender`.
#[derive(Clone, Debug)]
pub struct OrderCheck {
    senders: Vec<(u32, SenderTrack)>,
    per_sender: u64,
    counts: Integrity,
    outstanding: u64,
}

/// How a delivery was classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The first delivery of a message, after all earlier ones of its sender.
    InOrder,
    /// The first delivery of a message, but a later one of its sender came first.
    OutOfOrder,
    /// Delivered before.
    Duplicate,
    /// Not part of the plan.
    Unexpected,
}

impl OrderCheck {
    /// A check expecting `per_sender` messages (numbered from 0) from each of `senders`.
    pub fn new(senders: impl IntoIterator<Item = u32>, per_sender: u64) -> Self {
        let len = usize::try_from(per_sender).unwrap_or(usize::MAX);
        let mut senders: Vec<(u32, SenderTrack)> = senders
            .into_iter()
            .map(|s| {
                (
                    s,
                    SenderTrack {
                        seen: vec![false; len],
                        highest: None,
                    },
                )
            })
            .collect();
        senders.sort_by_key(|(s, _)| *s);
        senders.dedup_by_key(|(s, _)| *s);
        let outstanding = senders.len() as u64 * per_sender;
        Self {
            senders,
            per_sender,
            counts: Integrity::default(),
            outstanding,
        }
    }

    /// Records the delivery of message `seq` of `sender`.
    pub fn record(&mut self, sender: u32, seq: u64) -> Delivery {
        let Ok(i) = self.senders.binary_search_by_key(&sender, |(s, _)| *s) else {
            self.counts.unexpected += 1;
            return Delivery::Unexpected;
        };
        let track = &mut self.senders[i].1;
        let Some(slot) = usize::try_from(seq)
            .ok()
            .and_then(|s| track.seen.get_mut(s))
        else {
            self.counts.unexpected += 1;
            return Delivery::Unexpected;
        };
        if *slot {
            self.counts.duplicated += 1;
            return Delivery::Duplicate;
        }
        *slot = true;
        self.counts.delivered += 1;
        self.outstanding = self.outstanding.saturating_sub(1);
        if track.highest.is_some_and(|h| seq < h) {
            self.counts.out_of_order += 1;
            return Delivery::OutOfOrder;
        }
        track.highest = Some(seq);
        Delivery::InOrder
    }

    /// Records a delivery that could not be attributed (e.g. undecryptable).
    pub fn record_unexpected(&mut self) {
        self.counts.unexpected += 1;
    }

    /// Whether every expected message arrived.
    pub fn complete(&self) -> bool {
        self.outstanding == 0
    }

    /// Messages each sender is expected to send.
    pub fn per_sender(&self) -> u64 {
        self.per_sender
    }

    /// The counters, with everything not delivered so far counted as missing.
    pub fn finish(&self) -> Integrity {
        Integrity {
            missing: self.outstanding,
            ..self.counts
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        assert_eq!(l.percentile(50.0), None);
        for us in (1..=100).rev() {
            l.record(us * 1000);
        }
        assert_eq!(l.percentile(50.0), Some(50_000));
        assert_eq!(l.percentile(99.0), Some(99_000));
        assert_eq!(l.percentile(100.0), Some(100_000));
        assert_eq!(l.percentile(0.0), Some(1_000), "clamped to the smallest");
        let s = l.summary();
        assert_eq!(s.samples, 100);
        assert_eq!((s.p50_ms, s.p99_ms, s.max_ms), (50.0, 99.0, 100.0));

        let mut one = Latencies::default();
        one.record(7);
        assert_eq!(one.percentile(99.0), Some(7));
        let mut merged = Latencies::default();
        merged.merge(one);
        merged.merge(l);
        assert_eq!(merged.len(), 101);
        assert_eq!(merged.percentile(0.5), Some(7), "rank ceil(0.505) = 1");
        assert_eq!(merged.percentile(1.0), Some(1_000), "rank ceil(1.01) = 2");
    }

    #[test]
    fn order_check_counts_every_anomaly() {
        let mut c = OrderCheck::new([3, 1, 1], 3);
        assert!(!c.complete());
        assert_eq!(c.record(1, 0), Delivery::InOrder);
        assert_eq!(
            c.record(1, 2),
            Delivery::InOrder,
            "a gap is not yet an anomaly"
        );
        assert_eq!(c.record(1, 1), Delivery::OutOfOrder);
        assert_eq!(c.record(1, 1), Delivery::Duplicate);
        assert_eq!(c.record(3, 0), Delivery::InOrder);
        assert_eq!(c.record(3, 3), Delivery::Unexpected, "beyond the plan");
        assert_eq!(c.record(2, 0), Delivery::Unexpected, "not a peer");
        c.record_unexpected();
        let i = c.finish();
        assert_eq!(
            i,
            Integrity {
                delivered: 4,
                missing: 2,
                duplicated: 1,
                out_of_order: 1,
                unexpected: 3,
            }
        );
        assert!(!i.is_clean());
        assert_eq!(c.record(3, 1), Delivery::InOrder);
        assert_eq!(c.record(3, 2), Delivery::InOrder);
        assert!(c.complete());
        assert_eq!(c.finish().missing, 0);

        let mut total = Integrity::default();
        total.add(&c.finish());
        total.add(&c.finish());
        assert_eq!(total.delivered, 12);
    }

    #[test]
    fn clean_run_is_clean() {
        let mut c = OrderCheck::new(0..4, 5);
        for seq in 0..5 {
            for s in 0..4 {
                assert_eq!(c.record(s, seq), Delivery::InOrder);
            }
        }
        assert!(c.complete());
        assert!(c.finish().is_clean());
        assert_eq!(c.finish().delivered, 20);
        assert_eq!(c.per_sender(), 5);
    }
}
