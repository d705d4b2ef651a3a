//! Operating-system specifics (Windows certificate store and registry) behind `cfg`.
