use super::Context;
use crate::cli::CheckArgs;
use crate::error::AppError;
use crate::probe::{self, CheckOptions, CheckPlan};

pub fn run(ctx: &Context, args: &CheckArgs) -> Result<u8, AppError> {
    let args = CheckOptions::from(args);
    let profile = ctx.profile()?;
    let plan = CheckPlan {
        profile: &profile,
        args: &args,
        timeout: ctx.global.timeout,
    };
    let report = super::diagnosed(super::runtime()?.block_on(probe::run(&plan))?);
    ctx.emit_report(&report)
}
