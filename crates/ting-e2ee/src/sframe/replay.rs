//! A sliding replay window over SFrame counters (one per key id), as RFC 9605 §9.3 recommends.

/// How far behind the highest counter seen a frame may still arrive.
pub(crate) const WINDOW: u64 = 128;

/// Accepts each counter once, and only within [`WINDOW`] of the highest seen.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplayWindow {
    /// Highest counter accepted so far (`None` before the first).
    highest: Option<u64>,
    /// Bit `i` set: counter `highest - i` was accepted.
    seen: u128,
}

impl ReplayWindow {
    /// Whether `ctr` would be accepted (no state change).
    pub(crate) fn check(&self, ctr: u64) -> bool {
        match self.highest {
            None => true,
            Some(h) if ctr > h => true,
            Some(h) => {
                let back = h - ctr;
                back < WINDOW && self.seen & (1u128 << back) == 0
            }
        }
    }

    /// Records an authenticated `ctr` (call only after [`Self::check`] and decryption).
    pub(crate) fn accept(&mut self, ctr: u64) {
        match self.highest {
            None => {
                self.highest = Some(ctr);
                self.seen = 1;
            }
            Some(h) if ctr > h => {
                let shift = ctr - h;
                self.seen = if shift >= WINDOW {
                    0
                } else {
                    self.seen << shift
                };
                self.seen |= 1;
                self.highest = Some(ctr);
            }
            Some(h) => {
                let back = h - ctr;
                if back < WINDOW {
                    self.seen |= 1u128 << back;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_once_and_reorders_within_window() {
        let mut w = ReplayWindow::default();
        for ctr in [5u64, 3, 7, 6, 4] {
            assert!(w.check(ctr), "{ctr}");
            w.accept(ctr);
        }
        for ctr in [3u64, 4, 5, 6, 7] {
            assert!(!w.check(ctr), "{ctr} replayed");
        }
        w.accept(7 + WINDOW);
        assert!(!w.check(7), "too old");
        assert!(w.check(8 + WINDOW));
        assert!(w.check(8));
    }
}
