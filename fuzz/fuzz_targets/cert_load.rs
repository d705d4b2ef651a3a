//! Certificate files: PEM (any blocks, keys included), DER, and whatever is neither; then
//! every certificate found is read as `inspect` reads it.
#![no_main]
use certprobe::cert::source::{parse_container, Passwords};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = certprobe::cert::source::pem_blocks(data);
    // No password source: an encrypted key or PKCS#12 must end in an error, not a prompt.
    if let Ok(c) = parse_container(data.to_vec(), "fuzz.pem", &Passwords::default()) {
        for der in &c.certs {
            let _ = certprobe::cert::info::CertInfo::parse(der);
        }
    }
});
