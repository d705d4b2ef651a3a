use super::Context;
use crate::cli::NetArgs;
use crate::error::AppError;
use std::path::Path;

pub fn run(_ctx: &Context, _out: &Path, _net: &NetArgs) -> Result<u8, AppError> {
    Err(AppError::NotYetAvailable("fetch-ca"))
}
