use super::Context;
use crate::error::AppError;

pub fn run(_ctx: &Context, _scenario: &str, _list: bool) -> Result<u8, AppError> {
    Err(AppError::NotYetAvailable("demo"))
}
