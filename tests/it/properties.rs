//! Property tests over the entry points the fuzz targets drive (fuzz/fuzz_targets/*), so the
//! ordinary test suite keeps the same guarantees: no panic on any input, bad input is an
//! input error (exit code 2), and server text is always made safe for a terminal.

use certprobe::cert::source::{parse_container, Passwords};
use certprobe::net::{http, legacy, page};
use certprobe::profile::Profile;
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

/// A real file with some bytes overwritten, some cut off, or some inserted.
fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    (
        proptest::collection::vec((0..len, any::<u8>()), 0..8),
        0..=len,
        proptest::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(move |(edits, cut, insert)| {
            let mut v = base.clone();
            for (i, b) in edits {
                v[i] = b;
            }
            v.truncate(cut.max(1));
            let at = v.len() / 2;
            v.splice(at..at, insert);
            v
        })
}

fn no_password() -> Passwords {
    Passwords::default()
}

fn with_password() -> Passwords {
    std::env::set_var("CERTPROBE_PROPTEST_PW", "certprobe-test");
    Passwords {
        env: Some("CERTPROBE_PROPTEST_PW".into()),
        file: None,
    }
}

/// Loading either succeeds or is an input error (exit 2) — never a panic or an internal error.
fn load_is_ok_or_input_error(bytes: Vec<u8>, pw: &Passwords) -> Result<(), TestCaseError> {
    match parse_container(bytes, "prop", pw) {
        Ok(c) => {
            for der in &c.certs {
                let _ = certprobe::cert::info::CertInfo::parse(der);
            }
        }
        Err(e) => {
            prop_assert_eq!(e.exit_code(), 2, "{}", e);
            prop_assert!(!e.to_string().contains("certprobe-test"), "{}", e);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_a_certificate_file(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        load_is_ok_or_input_error(bytes, &no_password())?;
    }

    #[test]
    fn damaged_pem(bytes in mutated(fixture("fixtures/pki/client-chain.pem"))) {
        load_is_ok_or_input_error(bytes, &no_password())?;
    }

    #[test]
    fn damaged_der(bytes in mutated(fixture("fixtures/pki/client.der"))) {
        load_is_ok_or_input_error(bytes, &no_password())?;
    }

    #[test]
    fn damaged_encrypted_key(bytes in mutated(fixture("fixtures/pki/client-enc.key"))) {
        load_is_ok_or_input_error(bytes, &with_password())?;
    }

    #[test]
    fn damaged_pkcs12(bytes in mutated(fixture("fixtures/pki/client.p12"))) {
        load_is_ok_or_input_error(bytes, &with_password())?;
    }

    #[test]
    fn damaged_legacy_pkcs12(bytes in mutated(fixture("fixtures/pki/client-legacy.p12"))) {
        load_is_ok_or_input_error(bytes, &with_password())?;
    }

    #[test]
    fn arbitrary_profiles(src in "\\PC{0,400}") {
        let _ = Profile::parse(&src, "prop.toml");
    }

    #[test]
    fn damaged_builtin_profile(bytes in mutated(Profile::builtin_source().as_bytes().to_vec())) {
        let src = String::from_utf8_lossy(&bytes);
        if let Ok(p) = Profile::parse(&src, "prop.toml") {
            // A profile that loads prints back to one that loads the same.
            let again = Profile::parse(&p.to_toml(), "again.toml");
            prop_assert!(again.is_ok(), "{:?}", again.err());
        }
    }

    #[test]
    fn pages_of_any_bytes_and_charset(
        ct in proptest::option::of("[ -~]{0,60}"),
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let (text, _) = http::decode_body(ct.as_deref(), &body);
        let _ = page::title(&text);
        let _ = page::visible_text(&text);
        let _ = page::read_page(&Profile::builtin(), &text);
    }

    #[test]
    fn error_codes_are_found_among_any_markup(
        before in "[^<>]{0,40}",
        tags in "(<[a-z]{1,5}>){0,3}",
        code in prop_oneof![Just("42"), Just("44"), Just("46"), Just("53")],
    ) {
        let html = format!("<p>{before}</p>エラーコード：{tags}{code}");
        let m = page::read_page(&Profile::builtin(), &html);
        prop_assert_eq!(m.map(|m| m.section), Some(format!("2-2 {code}")));
    }

    #[test]
    fn cleaned_text_has_no_control_characters(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{202a}-\\u{202e}a-z]{0,80}") {
        let c = certprobe::text::escape::clean(&s);
        prop_assert!(!c.chars().any(|ch| ch.is_control()), "{:?}", c);
        let bidi = c
            .chars()
            .any(|ch| matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'));
        prop_assert!(!bidi, "{:?}", c);
    }

    #[test]
    fn legacy_reply_parser_never_panics_and_is_stable(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        head in prop_oneof![Just(vec![22u8, 3, 1]), Just(vec![21u8, 3, 3]), Just(vec![])],
        cut in 0usize..700,
    ) {
        let mut v = head;
        v.extend(bytes);
        let cut = cut.min(v.len());
        // Once the parser has decided on a prefix, more bytes do not change its mind.
        // (A `NotTls` description quotes the first bytes, so only its kind is compared.)
        if let legacy::Parse::Done(r) = legacy::parse_reply(&v[..cut]) {
            match (r, legacy::parse_reply(&v)) {
                (legacy::Reply::NotTls(_), legacy::Parse::Done(legacy::Reply::NotTls(_))) => {}
                (r, full) => prop_assert_eq!(full, legacy::Parse::Done(r)),
            }
        }
    }

    #[test]
    fn client_hello_is_well_formed_for_any_name(name in "\\PC{0,250}") {
        for version in [legacy::SSL3, legacy::TLS10, legacy::TLS11, legacy::TLS12] {
            let h = legacy::client_hello(version, Some(&name), [1; 32]);
            prop_assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
            prop_assert_eq!(u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize, h.len() - 9);
        }
    }
}
