use super::Context;
use crate::cli::{IdentityArgs, Purpose};
use crate::error::AppError;

pub fn run(_ctx: &Context, _identity: &IdentityArgs, _purpose: Purpose) -> Result<u8, AppError> {
    Err(AppError::NotYetAvailable("verify"))
}
