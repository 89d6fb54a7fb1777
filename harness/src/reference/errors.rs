//! API errors and their bodies, in each dialect's documented shape (provider-wire.md A5, B5,
//! C4).

use serde_json::{Value, json};

use super::config::{Broken, Config};
use crate::dialect::DialectKind;

/// What went wrong, independent of the dialect that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ErrorKind {
    /// 400: the request is invalid.
    Invalid,
    /// 401: the key is missing or wrong.
    Auth,
    /// 404: unknown model or route.
    NotFound,
}

/// An error answer before it is put in a dialect's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The kind, which picks the dialect's `type`.
    pub kind: ErrorKind,
    /// Human-readable text, as the real API words it.
    pub message: String,
    /// OpenAI's `param`: the field at fault.
    pub param: Option<String>,
    /// OpenAI's `code`.
    pub code: Option<String>,
}

impl ApiError {
    /// A 400 invalid request.
    pub(super) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            kind: ErrorKind::Invalid,
            message: message.into(),
            param: None,
            code: None,
        }
    }

    /// A 404.
    pub(super) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 404,
            kind: ErrorKind::NotFound,
            ..ApiError::invalid(message)
        }
    }

    /// A 401.
    pub(super) fn auth(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 401,
            kind: ErrorKind::Auth,
            ..ApiError::invalid(message)
        }
    }

    /// Sets OpenAI's `param`.
    pub(super) fn param(mut self, param: impl Into<String>) -> ApiError {
        self.param = Some(param.into());
        self
    }

    /// Sets OpenAI's `code`.
    pub(super) fn code(mut self, code: &str) -> ApiError {
        self.code = Some(code.to_string());
        self
    }

    /// The status and body `dialect` answers this error with, broken as `cfg` says.
    pub(super) fn render(&self, dialect: DialectKind, cfg: &Config) -> (u16, Value) {
        let status = if cfg.is_broken(Broken::WrongStatus) {
            500
        } else {
            self.status
        };
        let shape = if cfg.is_broken(Broken::ErrorShape) {
            // A gateway answering in the wrong dialect: OpenAI routes in Anthropic's shape,
            // the others in OpenAI's.
            match dialect {
                DialectKind::Openai | DialectKind::OpenaiResponses => DialectKind::Anthropic,
                _ => DialectKind::Openai,
            }
        } else {
            dialect
        };
        (status, self.body(shape))
    }

    fn body(&self, dialect: DialectKind) -> Value {
        match dialect {
            DialectKind::Openai | DialectKind::OpenaiResponses => {
                let kind = match self.kind {
                    ErrorKind::Invalid | ErrorKind::NotFound => "invalid_request_error",
                    ErrorKind::Auth => "invalid_request_error",
                };
                json!({"error": {"message": self.message, "type": kind,
                    "param": self.param, "code": self.code}})
            }
            DialectKind::Anthropic => {
                let kind = match self.kind {
                    ErrorKind::Invalid => "invalid_request_error",
                    ErrorKind::Auth => "authentication_error",
                    ErrorKind::NotFound => "not_found_error",
                };
                json!({"type": "error", "error": {"type": kind, "message": self.message},
                    "request_id": "req_reference"})
            }
            DialectKind::Ollama => json!({"error": self.message}),
        }
    }
}
