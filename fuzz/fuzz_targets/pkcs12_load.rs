//! PKCS#12 files, with a password given (as `--password-env` would), so that the integrity
//! check, the decryption and the bags inside are all reached for inputs derived from real files.
#![no_main]
use certprobe::cert::source::{parse_container, Passwords};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    std::env::set_var("CERTPROBE_FUZZ_PW", "certprobe-test");
    let pw = Passwords {
        env: Some("CERTPROBE_FUZZ_PW".into()),
        file: None,
    };
    if let Ok(c) = parse_container(data.to_vec(), "fuzz.p12", &pw) {
        for der in &c.certs {
            let _ = certprobe::cert::info::CertInfo::parse(der);
        }
    }
});
