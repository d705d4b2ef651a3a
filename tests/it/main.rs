//! certprobe's end-to-end tests: one test crate that runs the real binary (and, where a test needs
//! a finer look, the library) against real servers started on 127.0.0.1 by `support`.

mod support;

mod catalogue;
mod cli;
mod demo;
mod formats;
mod harden;
mod hostile;
mod html;
mod layering;
mod local;
mod man;
mod network;
mod politeness;
mod properties;
mod proxy;
mod proxyonly;
mod report;
mod road;
mod scenarios;
mod screen;
mod secrets;
mod serve;
mod strict;
mod strict_check;
mod versions;
mod weak;
mod wordsnet;
