//! Text leaving the program: escaping of untrusted strings (certificate subjects, headers, page
//! text, file names) and figures written for people. Depends on nothing else of certprobe's, so
//! `guide`, `report` and `commands` can all use it.

pub mod duration;
pub mod escape;
pub mod wrap;

pub use duration::duration;
