//! Path and query parameters of the API. A parameter that does not parse
//! (`/api/v1/people/abc`, `?person_id=x`) is answered like every other
//! error — the JSON body naming the parameter — and only after
//! authentication: an unauthenticated caller gets 401 whatever the path
//! holds, never a hint about which routes exist.
//!
//! actix polls a handler's extractors together and answers the first error
//! that is ready; a path that does not parse is ready at once, while the
//! bearer token's lookup waits on the database. So these extractors, on a
//! parse failure, authenticate the request themselves before answering;
//! when the parameters parse they cost nothing more. Every API route whose
//! path or query carries a parameter takes them through [`ApiPath`] and
//! [`ApiQuery`], never `web::Path` or `web::Query`.
//!
//! An id that does not parse cannot name anything: 404 `not_found`, with
//! `field` naming the parameter. A query parameter is input like a body
//! member: 422 `invalid_input` naming it. The `Idempotency-Key` header of
//! the creates that honour it ([`IdempotencyHeader`]) likewise.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Either, LocalBoxFuture, Ready, ready};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::domain::idempotency::{self, IdempotencyKey};
use crate::domain::ids::PersonId;
use crate::error::Error;
use crate::web::error::ApiError;
use crate::web::session::ApiCaller;

type Extracted<T> =
    Either<Ready<Result<T, ApiError>>, LocalBoxFuture<'static, Result<T, ApiError>>>;

/// Answers `error` once the request is authenticated (401 otherwise).
fn after_authentication<T: 'static>(req: &HttpRequest, error: Error) -> Extracted<T> {
    let req = req.clone();
    Either::Right(Box::pin(async move {
        ApiCaller::authenticate(&req).await?;
        Err(ApiError(error))
    }))
}

/// The name of the parameter at fault: the segment serde stopped at (a
/// tuple's index, a struct's field), or the only one.
fn name_of(path: &serde_path_to_error::Path, names: &[&str]) -> String {
    let at = path.iter().find_map(|s| match s {
        Segment::Seq { index } => names.get(*index).map(|n| (*n).to_owned()),
        Segment::Map { key } => Some(key.clone()),
        _ => None,
    });
    at.or_else(|| names.first().map(|n| (*n).to_owned()))
        .unwrap_or_else(|| "path".to_owned())
}

/// The typed path parameters of an API route.
pub struct ApiPath<T>(pub T);

impl<T> ApiPath<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for ApiPath<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Parses the route's parameters, naming the first that does not parse.
pub fn parse_path<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, Error> {
    let de = actix_router::PathDeserializer::new(req.match_info());
    serde_path_to_error::deserialize(de).map_err(|e| {
        let names: Vec<&str> = req.match_info().iter().map(|(name, _)| name).collect();
        let field = name_of(e.path(), &names);
        Error::BadPath {
            message: format!("no such {field}: it must be a whole number"),
            field,
        }
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiPath<T> {
    type Error = ApiError;
    type Future = Extracted<ApiPath<T>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        match parse_path(req) {
            Ok(v) => Either::Left(ready(Ok(ApiPath(v)))),
            Err(e) => after_authentication(req, e),
        }
    }
}

/// The typed query string of an API route.
pub struct ApiQuery<T>(pub T);

impl<T> ApiQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for ApiQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Parses a query string, naming the member that does not parse.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Error> {
    let de = serde_html_form::Deserializer::from_bytes(query.as_bytes());
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = name_of(e.path(), &[]);
        let field = if field == "path" {
            "query".to_owned()
        } else {
            field
        };
        Error::invalid(field, e.into_inner().to_string())
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = Extracted<ApiQuery<T>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        match parse_query(req.query_string()) {
            Ok(v) => Either::Left(ready(Ok(ApiQuery(v)))),
            Err(e) => after_authentication(req, e),
        }
    }
}

/// The `Idempotency-Key` header of a create, when one was sent. A key that
/// is not 1 to 255 visible ASCII characters is refused (422 naming the
/// header), after authentication like the parameters above.
pub struct IdempotencyHeader(pub Option<IdempotencyKey>);

impl FromRequest for IdempotencyHeader {
    type Error = ApiError;
    type Future = Extracted<IdempotencyHeader>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get(idempotency::HEADER) else {
            return Either::Left(ready(Ok(IdempotencyHeader(None))));
        };
        let parsed = match value.to_str() {
            Ok(text) => IdempotencyKey::parse(text),
            Err(_) => Err(Error::invalid(
                idempotency::HEADER,
                "must be visible ASCII characters",
            )),
        };
        match parsed {
            Ok(key) => Either::Left(ready(Ok(IdempotencyHeader(Some(key))))),
            Err(e) => after_authentication(req, e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    /// Parses the parameters `(name, value)` the router would capture.
    fn path_of<T: DeserializeOwned>(params: &[(&'static str, &'static str)]) -> Result<T, Error> {
        let mut req = TestRequest::default();
        for (name, value) in params {
            req = req.param(*name, *value);
        }
        parse_path(&req.to_http_request())
    }

    fn field_and_code(e: Error) -> (Option<String>, &'static str) {
        (e.field().map(str::to_owned), e.code())
    }

    #[test]
    fn a_path_id_that_does_not_parse_is_named_and_not_found() {
        assert_eq!(path_of::<i64>(&[("id", "12")]).ok(), Some(12));
        let e = path_of::<i64>(&[("id", "abc")]).unwrap_err();
        assert_eq!(field_and_code(e), (Some("id".into()), "not_found"));
        let e = path_of::<(i64, i32)>(&[("id", "7"), ("position", "x")]).unwrap_err();
        assert_eq!(field_and_code(e), (Some("position".into()), "not_found"));
        let e = path_of::<(i64, i32)>(&[("id", "1e3"), ("position", "2")]).unwrap_err();
        assert_eq!(field_and_code(e), (Some("id".into()), "not_found"));
        // Too large for its type is no id either.
        let e = path_of::<(i64, i32)>(&[("id", "1"), ("position", "99999999999")]).unwrap_err();
        assert_eq!(field_and_code(e), (Some("position".into()), "not_found"));
        assert_eq!(
            path_of::<(String, i64)>(&[("id", "a"), ("question", "3")]).ok(),
            Some(("a".to_owned(), 3))
        );
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Q {
        person_id: Option<i64>,
    }

    #[test]
    fn a_query_member_that_does_not_parse_is_named() {
        assert_eq!(parse_query::<Q>("").ok(), Some(Q { person_id: None }));
        assert_eq!(
            parse_query::<Q>("person_id=5").ok(),
            Some(Q { person_id: Some(5) })
        );
        let e = parse_query::<Q>("person_id=abc").unwrap_err();
        assert_eq!(
            field_and_code(e),
            (Some("person_id".into()), "invalid_input")
        );
    }
}

/// `?person_id=`: another person's records (admins only); one's own when
/// absent.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// Another person's (admins only); one's own when absent.
    #[param(value_type = Option<i64>)]
    pub person_id: Option<PersonId>,
}
