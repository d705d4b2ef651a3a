//! Chain validation and trust-store loading.
//!
//! `cargo bench --bench chain`. Target: a 3-certificate chain verifies in under 100 µs.
//! Measured on two chains: ECDSA P-256 throughout (most fixtures) and RSA-2048 throughout (the
//! algorithms of the real service's chain).

use certprobe::cert::chain::{validate, Candidate, ChainInput, Origin};
use certprobe::cert::info::CertInfo;
use certprobe::cert::source::read_certs;
use certprobe::cert::Purpose;
use certprobe::trust::TrustStore;
use criterion::{criterion_group, criterion_main, Criterion};
use rustls::pki_types::CertificateDer;
use std::hint::black_box;
use std::path::PathBuf;

fn pki(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pki")
        .join(name)
}

/// Leaf, its intermediate as a candidate, and a store holding only `root`.
fn chain_of(
    leaf: &str,
    inter: &str,
    root: &str,
) -> (CertificateDer<'static>, Vec<Candidate>, TrustStore) {
    let leaf = read_certs(&pki(leaf)).unwrap().remove(0);
    let inter = read_certs(&pki(inter)).unwrap().remove(0);
    let cands = vec![Candidate {
        info: CertInfo::parse(&inter).unwrap(),
        der: inter,
        origin: Origin::Identity,
    }];
    (leaf, cands, TrustStore::load(false, &[pki(root)]).unwrap())
}

fn benches(c: &mut Criterion) {
    let (leaf, cands, store) = chain_of("client.pem", "inter.pem", "root.pem");
    let at = time::OffsetDateTime::now_utc();
    let input = ChainInput {
        leaf: &leaf,
        intermediates: &cands,
        store: &store,
        at,
        purpose: Purpose::Client,
    };
    assert!(validate(&input).valid);
    c.bench_function("validate 3-certificate chain", |b| {
        b.iter(|| black_box(validate(black_box(&input))))
    });

    // RSA-2048 throughout, as the real service's chain (RootCA1 → member CA → S47… leaf).
    let (rsa_leaf, rsa_cands, rsa_store) =
        chain_of("client-allrsa.pem", "rsa-inter.pem", "rsa-root.pem");
    let rsa_input = ChainInput {
        leaf: &rsa_leaf,
        intermediates: &rsa_cands,
        store: &rsa_store,
        ..input
    };
    assert!(validate(&rsa_input).valid);
    c.bench_function("validate 3-certificate chain (RSA-2048)", |b| {
        b.iter(|| black_box(validate(black_box(&rsa_input))))
    });

    // As a real run has it: the platform roots (about 150 here) plus the profile's root.
    let platform = TrustStore::load(true, &[pki("root.pem")]).unwrap();
    let among_platform = ChainInput {
        store: &platform,
        ..input
    };
    assert!(validate(&among_platform).valid);
    c.bench_function(
        "validate 3-certificate chain among the platform roots",
        |b| b.iter(|| black_box(validate(black_box(&among_platform)))),
    );

    // The diagnosis path: intermediate missing, named from the certificates.
    let none: Vec<Candidate> = Vec::new();
    let broken = ChainInput {
        intermediates: &none,
        ..input
    };
    c.bench_function("diagnose missing intermediate", |b| {
        b.iter(|| black_box(validate(black_box(&broken))))
    });

    c.bench_function("webpki verify_for_usage alone", |b| {
        let anchors = store.webpki_anchors();
        let inters = [cands[0].der.clone()];
        let now = rustls::pki_types::UnixTime::now();
        b.iter(|| {
            let ee = webpki::EndEntityCert::try_from(&leaf).unwrap();
            black_box(
                ee.verify_for_usage(
                    webpki::ALL_VERIFICATION_ALGS,
                    &anchors,
                    &inters,
                    now,
                    webpki::KeyUsage::client_auth(),
                    None,
                    None,
                )
                .is_ok(),
            )
        })
    });

    let mut g = c.benchmark_group("trust store");
    g.sample_size(20);
    g.bench_function("load platform roots", |b| {
        b.iter(|| black_box(TrustStore::load(true, &[]).unwrap().anchors.len()))
    });
    g.bench_function("rustls-native-certs alone", |b| {
        b.iter(|| black_box(rustls_native_certs::load_native_certs().certs.len()))
    });
    g.finish();
}

criterion_group!(chain, benches);
criterion_main!(chain);
