//! Path and query extractors whose rejections speak our language: a malformed id in a URL is "not found" and a
//! malformed query is a coded `bad_request`, as JSON for the API and as a Chinese page for the UI (axum's own
//! rejections are plain English text).
//!
//! Every text value that comes in — query parameters here, JSON bodies (`api::Body`), page forms (`forms::Form`) —
//! passes the one text rule of `shanzhi_domain::text` first: control characters refused (`invalid_characters`),
//! NFC, trimmed, length-limited, by the kind of the field its key names.

use axum::extract::FromRequestParts;
use axum::http::Uri;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use shanzhi_domain::Code;
use shanzhi_domain::text::{TextKind, clean, clean_field};

use crate::error::UiError;
use crate::error::{ApiError, AppError};

/// Applies the text rule to decoded `key=value` pairs (forms and query strings). Keys are one-line text.
pub fn clean_pairs(pairs: Vec<(String, String)>) -> Result<Vec<(String, String)>, Code> {
    pairs
        .into_iter()
        .map(|(k, v)| {
            let key = clean(&k, TextKind::Line)?.into_owned();
            let value = clean_field(&key, &v)?.into_owned();
            Ok((key, value))
        })
        .collect()
}

/// Applies the text rule to every string of a JSON document: object keys as one-line text, string values by the
/// kind of the nearest enclosing key (so `["a","b"]` under `skills` is one-line, under `notes` multi-line).
pub fn clean_json(value: &mut serde_json::Value) -> Result<(), Code> {
    fn walk(v: &mut serde_json::Value, field: &str) -> Result<(), Code> {
        match v {
            serde_json::Value::String(s) => {
                let cleaned = clean_field(field, s)?;
                if cleaned != s.as_str() {
                    *s = cleaned.into_owned();
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    walk(item, field)?;
                }
            }
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut item) in entries {
                    let key = clean(&k, TextKind::Line)?.into_owned();
                    walk(&mut item, &key)?;
                    map.insert(key, item);
                }
            }
            serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
            }
        }
        Ok(())
    }
    walk(value, "")
}

/// Decodes a query string, applies the text rule, and deserialises it like axum's `Query` would.
fn query<T: DeserializeOwned>(parts: &Parts) -> Result<T, AppError> {
    let raw = parts.uri.query().unwrap_or("");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let pairs = clean_pairs(pairs).map_err(AppError::new)?;
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let uri: Uri = format!("/?{encoded}")
        .parse()
        .map_err(|_| AppError::new(Code::BadRequest))?;
    axum::extract::Query::<T>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|_| AppError::new(Code::BadRequest))
}

macro_rules! path_extractor {
    ($name:ident, $rejection:ident) => {
        #[derive(Debug, Clone)]
        pub struct $name<T>(pub T);

        impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for $name<T> {
            type Rejection = $rejection;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                match axum::extract::Path::<T>::from_request_parts(parts, state).await {
                    Ok(axum::extract::Path(v)) => Ok($name(v)),
                    Err(_) => Err($rejection(AppError::new(Code::NotFound))),
                }
            }
        }
    };
}

macro_rules! query_extractor {
    ($name:ident, $rejection:ident) => {
        #[derive(Debug, Clone)]
        pub struct $name<T>(pub T);

        impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for $name<T> {
            type Rejection = $rejection;

            async fn from_request_parts(
                parts: &mut Parts,
                _state: &S,
            ) -> Result<Self, Self::Rejection> {
                query(parts).map($name).map_err($rejection)
            }
        }
    };
}

path_extractor!(ApiPath, ApiError);
query_extractor!(ApiQuery, ApiError);
path_extractor!(UiPath, UiError);
query_extractor!(UiQuery, UiError);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn json_strings_are_cleaned_by_field_kind() {
        let mut v = serde_json::json!({
            "name": "  Jose\u{301} ",
            "description": "第一行\r\n第二行",
            "password": " secret ",
            "skills": [" a ", "b"],
            "nested": {"note": "x\ty"}
        });
        clean_json(&mut v).unwrap();
        assert_eq!(v["name"], "Jos\u{e9}");
        assert_eq!(v["description"], "第一行\n第二行");
        assert_eq!(v["password"], " secret ");
        assert_eq!(v["skills"][0], "a");
        assert_eq!(v["nested"]["note"], "x\ty");
    }

    #[test]
    fn json_refuses_controls_in_values_and_keys() {
        for mut v in [
            serde_json::json!({"username": "qu_admin\u{0}", "password": "x"}),
            serde_json::json!({"username": "qu_admin", "password": "x\u{0}"}),
            serde_json::json!({"name": "a\nb"}),
            serde_json::json!({"list": [{"name": "\u{7}"}]}),
            serde_json::json!({"na\u{0}me": "x"}),
        ] {
            assert_eq!(clean_json(&mut v), Err(Code::InvalidCharacters), "{v}");
        }
    }

    #[test]
    fn pairs_are_cleaned() {
        let pairs = vec![("q".to_string(), " 张三 ".to_string())];
        assert_eq!(clean_pairs(pairs).unwrap()[0].1, "张三");
        let bad = vec![("q".to_string(), "\u{0}".to_string())];
        assert_eq!(clean_pairs(bad), Err(Code::InvalidCharacters));
    }
}
