//! Glue between Rust values and `JsValue`s: exceptions, serde conversion, argument parsing.

use js_sys::{Array, Reflect, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

use crate::error::WebError;

/// `Result` of a binding: the error is the thrown JS value.
pub(crate) type JsResult<T> = Result<T, JsValue>;

impl From<WebError> for JsValue {
    /// A JS `Error` with `name = "TingError"`, `code` and `fault` (see [`crate::error`]).
    fn from(err: WebError) -> Self {
        let js = js_sys::Error::new(err.message());
        js.set_name("TingError");
        let obj: &JsValue = js.as_ref();
        // Setting a property on a fresh, extensible Error object cannot fail.
        let _ = Reflect::set(obj, &"code".into(), &err.code().into());
        let _ = Reflect::set(obj, &"fault".into(), &err.fault().into());
        js.into()
    }
}

/// Converts a ting-e2ee error into the thrown JS value.
pub(crate) fn e2ee(err: ting_e2ee::Error) -> JsValue {
    WebError::from(err).into()
}

/// Serializes a view into a JS value (objects for structs, `Uint8Array` for `serde_bytes`,
/// `null` for `None`).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> JsResult<JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true))
        .map_err(|e| WebError::internal(format!("result conversion: {e}")).into())
}

/// Deserializes a JS value into a view; a shape mismatch is `invalid_argument`.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> JsResult<T> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| WebError::invalid_argument(format!("{what}: {e}")).into())
}

/// A group id from JS: a string (its UTF-8 bytes) or a `Uint8Array` (the bytes as is).
pub(crate) fn group_id(value: &JsValue) -> JsResult<ting_e2ee::GroupId> {
    let bytes = if let Some(s) = value.as_string() {
        s.into_bytes()
    } else if let Some(a) = value.dyn_ref::<Uint8Array>() {
        a.to_vec()
    } else {
        return Err(WebError::invalid_argument("group id must be a string or a Uint8Array").into());
    };
    ting_e2ee::GroupId::new(bytes).map_err(e2ee)
}

/// A list of byte strings from a JS array of `Uint8Array`s.
pub(crate) fn byte_list(value: &JsValue, what: &str) -> JsResult<Vec<Vec<u8>>> {
    let array = value
        .dyn_ref::<Array>()
        .ok_or_else(|| WebError::invalid_argument(format!("{what} must be an array")))?;
    array
        .iter()
        .map(|item| {
            item.dyn_ref::<Uint8Array>()
                .map(Uint8Array::to_vec)
                .ok_or_else(|| {
                    WebError::invalid_argument(format!("{what} must hold Uint8Arrays")).into()
                })
        })
        .collect()
}

/// A JS array of `Uint8Array`s.
pub(crate) fn to_byte_list(items: &[Vec<u8>]) -> Array {
    items
        .iter()
        .map(|b| JsValue::from(Uint8Array::from(b.as_slice())))
        .collect()
}

/// Milliseconds since the Unix epoch from a JS number (`Date.now()`).
pub(crate) fn now_ms(value: f64) -> JsResult<u64> {
    crate::time::ms_from_f64(value).map_err(Into::into)
}
