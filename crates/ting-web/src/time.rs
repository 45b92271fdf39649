//! Time values crossing the JS boundary.

use crate::error::{WebError, WebResult};

/// Largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Converts a JS timestamp in milliseconds (e.g. `Date.now()` or
/// `performance.timeOrigin + performance.now()`) to `u64`, truncating fractions. Refuses NaN,
/// infinities, negatives and values beyond `Number.MAX_SAFE_INTEGER`.
pub(crate) fn ms_from_f64(value: f64) -> WebResult<u64> {
    if value.is_finite() && (0.0..=MAX_SAFE_INTEGER).contains(&value) {
        // In range and finite, so the cast is exact after truncation.
        Ok(value.trunc() as u64)
    } else {
        Err(WebError::invalid_argument(
            "a time must be a finite, non-negative number of milliseconds",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::ms_from_f64;

    #[test]
    fn converts_valid_times_and_refuses_the_rest() {
        assert_eq!(ms_from_f64(0.0).unwrap(), 0);
        assert_eq!(ms_from_f64(1_700_000_000_123.9).unwrap(), 1_700_000_000_123);
        for bad in [f64::NAN, f64::INFINITY, -1.0, 1e300] {
            assert_eq!(ms_from_f64(bad).unwrap_err().code(), "invalid_argument");
        }
    }
}
