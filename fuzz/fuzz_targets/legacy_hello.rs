//! The hand-written parser of a server's first answer to a legacy ClientHello (ServerHello
//! version or alert), and the ClientHello builder with any server name.
#![no_main]
use certprobe::net::legacy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Every prefix, as the bytes arrive in pieces on a real connection.
    let mut done = false;
    for cut in [1usize, 5, 6, 9, 11, 64, 512, 4096, data.len()] {
        let cut = cut.min(data.len());
        if let legacy::Parse::Done(_) = legacy::parse_reply(&data[..cut]) {
            done = true;
        }
        if done {
            break;
        }
    }
    if let Ok(name) = std::str::from_utf8(data) {
        if name.len() < 300 {
            for v in [legacy::SSL3, legacy::TLS10, legacy::TLS11, legacy::TLS12] {
                let h = legacy::client_hello(v, Some(name), [0; 32]);
                assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
            }
        }
    }
});
