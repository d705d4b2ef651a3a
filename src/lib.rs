//! certprobe: tells a person why their client-certificate log-in to a web service fails,
//! and what to do about it.
//!
//! Data flows one way: load → probe → diagnose → render.
//! - [`finding`] is the vocabulary every part shares; [`guide`] holds all user-facing advice.
//! - [`cert`], [`trust`] and [`net`] look at things and return findings; [`probe`] plans them.
//! - [`diagnose`] decides causes, consequences and the verdict from the findings alone.
//! - [`report`] renders findings and the verdict and never probes.
//! - [`commands`] ties each subcommand to the library; `main.rs` only maps the outcome to an exit code.
//! - [`serve`] is the Prometheus exporter (`certprobe serve`): it runs the check `commands` hands it.

pub mod cert;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod diagnose;
pub mod error;
pub mod finding;
pub mod guide;
pub mod infile;
pub mod net;
pub mod outfile;
pub mod platform;
pub mod probe;
pub mod profile;
pub mod report;
pub mod serve;
pub mod text;
pub mod trust;
pub mod watchdog;

pub use error::AppError;
pub use finding::{Finding, Lang, Phase, Status, Text, Verdict};
pub use report::Report;
