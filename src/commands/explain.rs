use super::Context;
use crate::error::AppError;

pub fn run(_ctx: &Context, _section: Option<&str>, _list: bool) -> Result<u8, AppError> {
    Err(AppError::NotYetAvailable("explain"))
}
