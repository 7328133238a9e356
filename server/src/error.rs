//! One error type for every HTTP handler: client errors are returned as JSON with a clear
//! message and the right status; internal errors are logged and hidden.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;
use crate::sync::hub::HubError;

/// An error an HTTP handler returns.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not signed in, or the session ended.
    #[error("sign in first")]
    Unauthenticated,
    /// Wrong username or password (never says which).
    #[error("wrong username or password")]
    BadCredentials,
    /// Signed in, but not allowed.
    #[error("you may not do that")]
    Forbidden,
    /// No such thing, or nothing this user may see.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Too many failed sign-ins: try again after this many seconds.
    #[error("too many failed sign-ins; try again in {retry_after} seconds")]
    TooManyAttempts {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// A request that changes something, carrying the session cookie, from another site.
    #[error("a request from another site is refused")]
    CrossSite,
    /// Signed in with a temporary password: a new one must be chosen before anything else.
    #[error("choose a new password first: you signed in with a temporary one")]
    PasswordChangeRequired,
    /// Refused with a machine-readable code beside the message (see [`AppError::code`]).
    #[error("{message}")]
    Refused {
        /// The HTTP status.
        status: StatusCode,
        /// The code (`weak_password`, `own_role_or_districts`, …).
        code: &'static str,
        /// What went wrong, for a person to read.
        message: String,
    },
    /// Password sign-in is turned off (`--password-sign-in=false`): the identity provider only.
    #[error(
        "password sign-in is turned off on this server; sign in with your organisation's account"
    )]
    PasswordSignInOff,
    /// The request was malformed or refused by the domain's rules.
    #[error("{0}")]
    BadRequest(String),
    /// Something broke inside the server.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        AppError::Internal(error.into())
    }
}

impl From<HubError> for AppError {
    fn from(error: HubError) -> Self {
        match error {
            HubError::NotFound => AppError::NotFound("household"),
            HubError::Action(error) => AppError::BadRequest(error.to_string()),
            HubError::BadStaffId(error) => AppError::BadRequest(error.to_string()),
            error @ (HubError::NotAssignable { .. }
            | HubError::NotPending
            | HubError::NothingKept
            | HubError::WaitsFor { .. }) => AppError::BadRequest(error.to_string()),
            other => AppError::Internal(other.into()),
        }
    }
}

impl AppError {
    /// A 400 with a code beside its message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Refused {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    /// A 403 with a code beside its message.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Refused {
            status: StatusCode::FORBIDDEN,
            code,
            message: message.into(),
        }
    }

    /// The machine-readable code of the error, when it has one: the JSON body's `code`.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            AppError::PasswordChangeRequired => Some("password_change_required"),
            AppError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            AppError::Refused { status, .. } => *status,
            AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CrossSite | AppError::PasswordSignInOff => {
                StatusCode::FORBIDDEN
            }
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self {
            AppError::Internal(_) => {
                "something went wrong on the server; it has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let body = match self.code() {
            Some(code) => serde_json::json!({ "error": message, "code": code }),
            None => serde_json::json!({ "error": message }),
        };
        let mut response = (status, Json(body)).into_response();
        if let AppError::TooManyAttempts { retry_after } = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after),
            );
        }
        response
    }
}
