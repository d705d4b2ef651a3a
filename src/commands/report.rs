use super::Context;
use crate::cli::CheckArgs;
use crate::error::AppError;
use std::path::Path;

/// What only the person knows, for the support desk.
pub struct Person {
    pub message: Option<String>,
    pub what_i_did: Option<String>,
    pub user_id: Option<String>,
}

pub fn run(
    _ctx: &Context,
    _check: &CheckArgs,
    _person: &Person,
    _redact: bool,
    _out: Option<&Path>,
) -> Result<u8, AppError> {
    Err(AppError::NotYetAvailable("report"))
}
