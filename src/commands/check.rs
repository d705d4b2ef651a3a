use super::Context;
use crate::cli::CheckArgs;
use crate::error::AppError;
use crate::probe::{self, CheckPlan};

pub fn run(ctx: &Context, args: &CheckArgs) -> Result<u8, AppError> {
    let profile = ctx.profile()?;
    let plan = CheckPlan {
        profile: &profile,
        args,
        timeout: ctx.global.timeout,
    };
    let report = super::diagnosed(super::runtime()?.block_on(probe::run(&plan))?);
    ctx.emit_report(&report)
}
