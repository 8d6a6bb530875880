//! The JSON body extractor of the API: checks the content type, enforces the
//! size limit while reading, and reports a bad member by its path
//! (`roles[1]`, `email`) rather than by line and column. When the request
//! carries a bearer token, a bad body is answered only once the token is
//! known good (401 otherwise).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::services::Ctx;
use crate::web::error::ApiError;
use crate::web::session::{ApiCaller, bearer_token};

pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Json<T>, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<Ctx>>()
            .map(|c| c.settings.tuning.max_body_bytes)
            .unwrap_or(256 * 1024);
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        let mut payload = payload.take();
        let req = req.clone();
        Box::pin(async move {
            let read = read_body(is_json, &req, limit, &mut payload).await;
            match read.and_then(|body| parse(&body).map_err(ApiError)) {
                Ok(v) => Ok(Json(v)),
                // Like every error of a request that carries a token, after
                // authentication (see `web::api::params`): a bad token is
                // 401 whatever the body.
                Err(e) => {
                    if bearer_token(&req).is_some() {
                        ApiCaller::authenticate(&req).await?;
                    }
                    Err(e)
                }
            }
        })
    }
}

async fn read_body(
    is_json: bool,
    req: &HttpRequest,
    limit: usize,
    payload: &mut actix_web::dev::Payload,
) -> Result<web::BytesMut, ApiError> {
    if !is_json {
        return Err(ApiError(Error::UnsupportedMediaType {
            expected: "application/json",
        }));
    }
    crate::web::read_body_within(req, payload, limit)
        .await
        .map_err(ApiError)
}

/// Syntax errors are 400 (malformed); a well-formed body with a wrong or
/// missing member is 422 naming the member.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end().map_err(|e| Error::Malformed(e.to_string()))?;
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() || inner.is_io() {
                return Err(Error::Malformed(inner.to_string()));
            }
            // serde's message ends with " at line L column C", which names
            // nothing a client can act on once the path is given.
            let message = inner.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            let field = if path == "." {
                missing_field(&message).unwrap_or_else(|| "body".to_owned())
            } else {
                path
            };
            Err(Error::invalid(field, message))
        }
    }
}

/// The member named by serde's "missing field `x`" or "unknown field `x`".
fn missing_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    Some(rest.split('`').next()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        #[serde(default)]
        roles: Vec<String>,
    }

    fn field(body: &str) -> Option<String> {
        parse::<Body>(body.as_bytes())
            .err()
            .and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn bad_members_are_named() {
        assert_eq!(field(r#"{"email": 5}"#).as_deref(), Some("email"));
        assert_eq!(
            field(r#"{"email": "a", "roles": ["x", 3]}"#).as_deref(),
            Some("roles[1]")
        );
        assert_eq!(field(r#"{"roles": []}"#).as_deref(), Some("email"));
        assert_eq!(
            field(r#"{"email": "a", "rolez": []}"#).as_deref(),
            Some("rolez")
        );
        assert!(parse::<Body>(br#"{"email": "a"}"#).is_ok());
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert!(matches!(
            parse::<Body>(b"{\"email\": "),
            Err(Error::Malformed(_))
        ));
        assert!(matches!(
            parse::<Body>(b"not json"),
            Err(Error::Malformed(_))
        ));
        assert!(matches!(
            parse::<Body>(br#"{"email": "a"} trailing"#),
            Err(Error::Malformed(_))
        ));
    }
}
