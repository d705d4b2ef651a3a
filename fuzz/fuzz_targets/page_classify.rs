//! Page classification: the body decoded by its declared charset (first line of the input is
//! the Content-Type header), its visible text and title, matched against the built-in patterns.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static PROFILE: OnceLock<certprobe::profile::Profile> = OnceLock::new();
    let profile = PROFILE.get_or_init(certprobe::profile::Profile::builtin);
    let (ct, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (
            Some(String::from_utf8_lossy(&data[..i]).into_owned()),
            &data[i + 1..],
        ),
        None => (None, data),
    };
    let (text, _enc) = certprobe::net::http::decode_body(ct.as_deref(), body);
    let _ = certprobe::net::page::title(&text);
    let _ = certprobe::net::page::visible_text(&text);
    let _ = certprobe::net::page::read_page(profile, &text);
    let _ = certprobe::net::diagnose::server_verdict(200, &text);
    let _ = certprobe::text::escape::clean(&text);
});
