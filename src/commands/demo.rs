//! `certprobe demo`: start the simulated service, run the real check against it, print it.

use super::Context;
use crate::cli::Format;
use crate::demo::{Demo, Scenario};
use crate::error::AppError;
use crate::guide::label;
use crate::probe::{self, CheckPlan};

pub fn run(ctx: &Context, scenario: &str, list: bool) -> Result<u8, AppError> {
    let lang = ctx.lang;
    if list {
        let mut out = format!("{}\n", label("demo.list.header", lang));
        for s in Scenario::ALL {
            let expect = match s.expected() {
                Some(e) => format!("{} {} \"{}\"", e.id, e.status, e.section),
                None => label("demo.list.healthy", lang),
            };
            out.push_str(&format!(
                "  {:<22} {}\n  {:<22} ({}: {})\n",
                s.name(),
                s.description(lang),
                "",
                label("demo.list.expect", lang),
                expect
            ));
        }
        super::print(&out)?;
        return Ok(0);
    }
    let scenario = Scenario::parse(scenario).ok_or_else(|| {
        let names: Vec<String> = Scenario::ALL
            .iter()
            .map(|s| format!("`{}`", s.name()))
            .collect();
        AppError::catalogued(
            "errors.demo_unknown",
            &[("scenario", scenario), ("names", &names.join(", "))],
        )
    })?;
    let demo = Demo::start(scenario)?;
    if ctx.global.format == Format::Table && !ctx.global.quiet {
        let intro = label("demo.intro", lang)
            .replace("{scenario}", scenario.name())
            .replace("{description}", &scenario.description(lang));
        let width = ctx.render.width.map(usize::from).unwrap_or(100);
        let intro = format!("{intro}\n{}", label("demo.intro.service", lang));
        super::print(&format!("{}\n", crate::text::wrap::wrap(&intro, width, "")))?;
    }
    let plan = CheckPlan {
        profile: &demo.profile,
        args: &demo.args,
        timeout: ctx.global.timeout,
    };
    let report = super::runtime()?.block_on(probe::run(&plan));
    drop(demo);
    ctx.emit_report(&super::diagnosed(report?))
}
