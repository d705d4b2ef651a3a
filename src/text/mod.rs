//! Text leaving the program: escaping of untrusted strings (certificate subjects, headers, page
//! text, file names), the one way out to stdout, stderr and report files ([`out`]), URLs shown
//! without their credentials ([`url`]) and figures written for people ([`human`]). Depends on
//! nothing else of certprobe's, so `guide`, `report` and `commands` can all use it.

pub mod escape;
pub mod human;
pub mod out;
pub mod url;
pub mod wrap;

pub use human::duration;
