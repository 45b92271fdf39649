//! Binary fields in JSON bodies are standard base64 strings.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that travel as a standard (padded) base64 string in JSON.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
pub struct Base64(pub Vec<u8>);

impl Base64 {
    /// The decoded bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Takes the decoded bytes.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }

    /// The base64 text form.
    pub fn encode(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }
}

impl From<Vec<u8>> for Base64 {
    fn from(v: Vec<u8>) -> Self {
        Self(v)
    }
}

impl fmt::Debug for Base64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Base64({} bytes)", self.0.len())
    }
}

impl Serialize for Base64 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map(Base64)
            .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn json_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let json = serde_json::to_string(&Base64(bytes.clone())).unwrap();
            let back: Base64 = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.0, bytes);
        }
    }

    #[test]
    fn rejects_invalid_base64() {
        assert!(serde_json::from_str::<Base64>("\"***\"").is_err());
    }
}
