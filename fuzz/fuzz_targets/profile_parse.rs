//! Service profiles (TOML), with every semantic check; a profile that loads is printed back.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    if let Ok(p) = certprobe::profile::Profile::parse(&src, "fuzz.toml") {
        let _ = p.to_toml();
        for e in &p.endpoints {
            let _ = certprobe::profile::parse_url(&e.url);
        }
    }
});
