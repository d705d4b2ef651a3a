//! Errors that end a run, each with its exit code. Every one is one clear sentence:
//! no panic, no backtrace reaches a person.

use std::fmt;

#[derive(Debug)]
pub enum AppError {
    /// Bad flags or arguments (exit 2).
    Usage(String),
    /// Unreadable or malformed input: files, passwords, profiles (exit 2).
    Input(String),
    /// A command whose issue has not landed yet (exit 2).
    NotYetAvailable(&'static str),
    /// A bug or an environment failure certprobe cannot attribute to input (exit 3).
    Internal(String),
}

impl AppError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Usage(_) | AppError::Input(_) | AppError::NotYetAvailable(_) => 2,
            AppError::Internal(_) => 3,
        }
    }

    pub fn input(msg: impl Into<String>) -> AppError {
        AppError::Input(msg.into())
    }

    /// An input error whose text is the catalogue entry `key` (ja/en) filled in.
    pub fn catalogued(key: &str, args: &[(&str, &str)]) -> AppError {
        AppError::Input(crate::guide::message(key, args))
    }

    /// An environment failure (exit 3) whose text is the catalogue entry `key` filled in.
    pub fn internal(key: &str, args: &[(&str, &str)]) -> AppError {
        AppError::Internal(crate::guide::message(key, args))
    }

    fn from_parts(key: &str, args: Vec<(&'static str, String)>) -> AppError {
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        AppError::catalogued(key, &args)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Usage(m) | AppError::Input(m) => f.write_str(m),
            AppError::NotYetAvailable(what) => f.write_str(&crate::guide::message(
                "errors.not_yet_available",
                &[("command", what)],
            )),
            AppError::Internal(m) => {
                f.write_str(&crate::guide::message("errors.internal", &[("detail", m)]))
            }
        }
    }
}

impl std::error::Error for AppError {}

impl From<crate::profile::ProfileError> for AppError {
    fn from(e: crate::profile::ProfileError) -> Self {
        AppError::Input(e.to_string())
    }
}

impl From<crate::infile::InError> for AppError {
    fn from(e: crate::infile::InError) -> Self {
        let (key, args) = e.key_and_args();
        AppError::from_parts(key, args)
    }
}

impl From<crate::outfile::OutError> for AppError {
    fn from(e: crate::outfile::OutError) -> Self {
        let (key, args) = e.key_and_args();
        AppError::from_parts(key, args)
    }
}
