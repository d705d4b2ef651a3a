//! Operating-system specifics (Windows certificate store and registry) behind `cfg`.
//!
//! The parts that only interpret data ([`select`], [`ca`], [`internet`]) build and are tested on
//! every platform; the parts that talk to Windows live in [`windows`] and exist only there.
//!
//! - [`select`]: which certificate of a store to use, and why each other one was not chosen.
//! - [`ca`]: presence and expiry of the profile's root and intermediate CAs in a set of stores.
//! - [`console`]: colour in the Windows console, the double-click start, the Documents folder.
//! - [`internet`]: the Internet Settings values (proxy, PAC, SecureProtocols) as a plain struct.
//!
//! Their fix texts are in the guide catalogue (`src/guide/fixes/windows.toml`, keys `windows.*`).

pub mod ca;
pub mod console;
pub mod internet;
pub mod select;

#[cfg(windows)]
pub mod windows;
