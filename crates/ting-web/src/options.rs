//! Options objects accepted from JavaScript (`ClientOptions`, `SframeOptions`): every field is
//! optional and defaults to ting-e2ee's default; unknown fields are refused, so a typo is an
//! `invalid_argument` error instead of a silently ignored setting.

use serde::Deserialize;
use ting_e2ee::{CipherSuite, CipherSuitePolicy, ClientConfig, SframeConfig};

use crate::error::WebResult;

/// Client options (`ClientConfig`); every field is optional and defaults to ting-e2ee's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigView {
    /// Allowed MLS cipher suites (RFC 9420 values), preferred first.
    pub ciphersuites: Option<Vec<u16>>,
    /// SFrame key id layout and grace window.
    pub sframe: Option<SframeConfigView>,
    /// Past epochs whose application messages can still be decrypted.
    pub max_past_epochs: Option<u16>,
    /// Out-of-order tolerance within an epoch.
    pub out_of_order_tolerance: Option<u32>,
    /// Maximum forward distance of a sender's generation.
    pub maximum_forward_distance: Option<u32>,
}

/// SFrame options (`SframeConfig`); every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SframeConfigView {
    /// Low epoch bits in the key id (1..=16).
    pub epoch_bits: Option<u8>,
    /// Random sender-session bits in the key id context (0..=32).
    pub session_bits: Option<u8>,
    /// Grace window of previous epochs' keys, ms.
    pub grace_ms: Option<u64>,
}

impl SframeConfigView {
    /// Applies the given fields over the defaults.
    pub fn to_config(&self) -> SframeConfig {
        let d = SframeConfig::default();
        SframeConfig {
            epoch_bits: self.epoch_bits.unwrap_or(d.epoch_bits),
            session_bits: self.session_bits.unwrap_or(d.session_bits),
            grace_ms: self.grace_ms.unwrap_or(d.grace_ms),
        }
    }
}

impl ConfigView {
    /// Applies the given fields over the defaults.
    pub fn to_config(&self) -> WebResult<ClientConfig> {
        let d = ClientConfig::default();
        let policy = match &self.ciphersuites {
            None => d.policy,
            Some(list) => {
                CipherSuitePolicy::new(list.iter().map(|&s| CipherSuite::from_u16(s)).collect())?
            }
        };
        Ok(ClientConfig {
            policy,
            sframe: self
                .sframe
                .as_ref()
                .map(SframeConfigView::to_config)
                .unwrap_or(d.sframe),
            max_past_epochs: self.max_past_epochs.unwrap_or(d.max_past_epochs),
            out_of_order_tolerance: self
                .out_of_order_tolerance
                .unwrap_or(d.out_of_order_tolerance),
            maximum_forward_distance: self
                .maximum_forward_distance
                .unwrap_or(d.maximum_forward_distance),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let d = ConfigView::default().to_config().unwrap();
        assert_eq!(d, ClientConfig::default());
        let v: ConfigView = serde_json::from_str(
            r#"{"ciphersuites":[1],"sframe":{"graceMs":5},"maxPastEpochs":2}"#,
        )
        .unwrap();
        let c = v.to_config().unwrap();
        assert_eq!(c.sframe.grace_ms, 5);
        assert_eq!(c.sframe.epoch_bits, SframeConfig::default().epoch_bits);
        assert_eq!(c.max_past_epochs, 2);
        let bad: ConfigView = serde_json::from_str(r#"{"ciphersuites":[]}"#).unwrap();
        assert_eq!(bad.to_config().unwrap_err().code(), "invalid_argument");
        assert!(serde_json::from_str::<ConfigView>(r#"{"cipherSuites":[1]}"#).is_err());
    }
}
