use super::Context;
use crate::cli::{IdentityArgs, NetArgs};
use crate::error::AppError;

pub fn run(
    _ctx: &Context,
    _target: &str,
    _identity: &IdentityArgs,
    _net: &NetArgs,
) -> Result<u8, AppError> {
    Err(AppError::NotYetAvailable("tls"))
}
