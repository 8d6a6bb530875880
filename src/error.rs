//! The library's one error type. Every layer returns it; `web::error` maps it
//! to HTTP in one place (status code, JSON body for the API, a page for people).

use std::time::Duration;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input was refused; `field` names the form field, JSON member or file line.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },

    /// Several fields of one form were refused, each with its own message
    /// (a form reports every problem at once). Always two or more: one
    /// problem is `Invalid`.
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<FieldProblem>),

    /// The input clashes with something that exists (a duplicate email, say).
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },

    #[error("not found")]
    NotFound,

    /// The path exists but does not take this method; `allow` lists the
    /// methods it takes ("GET, POST"), for the `Allow` header.
    #[error("this address does not take that method; it takes {allow}")]
    MethodNotAllowed { allow: String },

    /// A path parameter that does not parse (`/people/abc`): it cannot name
    /// anything, so it is not found, and `field` names the parameter.
    #[error("{field}: {message}")]
    BadPath { field: String, message: String },

    /// No valid credentials were presented.
    #[error("sign-in required")]
    Unauthenticated,

    /// Credentials were presented but are wrong (bad password, bad token).
    #[error("email or password is incorrect")]
    BadCredentials,

    /// The password was right but the account has been deactivated.
    #[error("this account has been deactivated; contact your administrator")]
    AccountDisabled,

    /// The caller is known but may not do this.
    #[error("not allowed")]
    Forbidden,

    /// A rule refused the action, with its own stable code (the referral
    /// gate: `credential_suspended`, `out_of_scope` …).
    #[error("{message}")]
    Refused { code: &'static str, message: String },

    /// A conflict of interest: the caller may not act on this case or
    /// credential (their own, or a colleague's from their institution).
    #[error("{0}")]
    ConflictOfInterest(Conflict),

    /// A form arrived without a valid CSRF token.
    #[error("the form has expired; reload the page and try again")]
    CsrfRejected,

    /// Too many attempts; try again after the given time.
    #[error("too many attempts; try again in {} seconds", retry_after.as_secs().max(1))]
    Throttled { retry_after: Duration },

    /// The request body is not well-formed (bad JSON syntax, say).
    #[error("malformed request body: {0}")]
    Malformed(String),

    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },

    #[error("the request body must be {expected}")]
    UnsupportedMediaType { expected: &'static str },

    #[error("database error")]
    Database(#[from] diesel::result::Error),

    #[error("database connection error")]
    Pool(#[from] r2d2::Error),

    /// A state the program should never reach, or a failure of something
    /// beneath it (a file, a template, a key). `context` says what was being
    /// done; `source` keeps the underlying error, so the log shows the whole
    /// chain (`web::error`) while people are told nothing of it.
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// Why a person may not act on a case or credential: a conflict of interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("you may not act on your own certification case")]
    OwnCase,
    #[error("you may not act on your own credential")]
    OwnCredential,
    #[error(
        "a committee member from the doctor's own institution may not act on their case or credential"
    )]
    SameInstitution,
}

impl Conflict {
    /// The stable code the API answers with (403).
    pub fn code(self) -> &'static str {
        match self {
            Conflict::OwnCase => "own_case",
            Conflict::OwnCredential => "own_credential",
            Conflict::SameInstitution => "same_institution",
        }
    }
}

/// One refused field of a form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// The member, query parameter or header.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Error {
    /// The problems found in one form: none is fine, one is `Invalid`,
    /// several are `InvalidFields`.
    pub fn from_problems(problems: Vec<FieldProblem>) -> Result<()> {
        let mut problems = problems;
        match problems.len() {
            0 => Ok(()),
            1 => {
                let p = problems.remove(0);
                Err(Error::invalid(p.field, p.message))
            }
            _ => Err(Error::InvalidFields(problems)),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Conflict {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A state that has no underlying error ("the write did not run").
    pub fn internal(context: impl Into<String>) -> Self {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// `source` failed while doing `context`; the source is kept, not
    /// flattened into the message (`std::error::Error::source`).
    pub fn internal_from(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// This error as tracing records errors: `error = e.traced()` logs its
    /// message and, as `error.sources`, every cause beneath it.
    pub fn traced(&self) -> &(dyn std::error::Error + 'static) {
        self
    }

    /// A stable, machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { .. } | Error::InvalidFields(_) => "invalid_input",
            Error::Conflict { .. } => "conflict",
            Error::NotFound | Error::BadPath { .. } => "not_found",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
            Error::Unauthenticated => "unauthenticated",
            Error::BadCredentials => "bad_credentials",
            Error::Forbidden => "forbidden",
            Error::Refused { code, .. } => code,
            Error::ConflictOfInterest(c) => c.code(),
            Error::AccountDisabled => "account_disabled",
            Error::CsrfRejected => "csrf_rejected",
            Error::Throttled { .. } => "too_many_attempts",
            Error::Malformed(_) => "malformed_body",
            Error::TooLarge { .. } => "payload_too_large",
            Error::UnsupportedMediaType { .. } => "unsupported_media_type",
            Error::Database(_) | Error::Pool(_) | Error::Internal { .. } => "internal",
        }
    }

    /// The field (or file line) the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. }
            | Error::Conflict { field, .. }
            | Error::BadPath { field, .. } => Some(field),
            Error::InvalidFields(problems) => problems.first().map(|p| p.field.as_str()),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and every cause beneath it, "a: b: c": for the command line,
/// which has no log to keep the causes in.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_source_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::internal_from("cannot read keys.pem", io);
        assert_eq!(e.to_string(), "internal error: cannot read keys.pem");
        let source = std::error::Error::source(&e).expect("the source is kept");
        assert_eq!(source.to_string(), "no such file");
        assert!(source.downcast_ref::<std::io::Error>().is_some());
        assert_eq!(
            Chain(&e).to_string(),
            "internal error: cannot read keys.pem: no such file"
        );
        assert_eq!(e.code(), "internal");
    }

    #[test]
    fn an_internal_state_has_no_source() {
        let e = Error::internal("the write did not run");
        assert!(std::error::Error::source(&e).is_none());
        assert_eq!(
            Chain(&e).to_string(),
            "internal error: the write did not run"
        );
    }
}
