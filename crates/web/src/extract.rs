//! Path and query extractors whose rejections speak our language: a malformed id in a URL is "not found" and a
//! malformed query is a coded `bad_request`, as JSON for the API and as a Chinese page for the UI (axum's own
//! rejections are plain English text).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use shanzhi_domain::Code;

use crate::error::{ApiError, AppError};
use crate::ui::UiError;

macro_rules! extractor {
    ($name:ident, $inner:ident, $rejection:ident, $code:expr) => {
        #[derive(Debug, Clone)]
        pub struct $name<T>(pub T);

        impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for $name<T> {
            type Rejection = $rejection;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                match axum::extract::$inner::<T>::from_request_parts(parts, state).await {
                    Ok(axum::extract::$inner(v)) => Ok($name(v)),
                    Err(_) => Err($rejection(AppError::new($code))),
                }
            }
        }
    };
}

extractor!(ApiPath, Path, ApiError, Code::NotFound);
extractor!(ApiQuery, Query, ApiError, Code::BadRequest);
extractor!(UiPath, Path, UiError, Code::NotFound);
extractor!(UiQuery, Query, UiError, Code::BadRequest);
