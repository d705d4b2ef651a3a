use super::Context;
use crate::error::AppError;
use std::path::{Path, PathBuf};

pub fn run(
    _ctx: &Context,
    _files: &[PathBuf],
    _key: Option<&Path>,
    _password_env: Option<&str>,
    _password_file: Option<&Path>,
) -> Result<u8, AppError> {
    Err(AppError::NotYetAvailable("inspect"))
}
