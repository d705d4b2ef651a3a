//! Reading `--trust` files: every certificate of a PEM bundle, or one DER certificate.

use crate::error::AppError;
use crate::infile::{read_capped, CERT_CAP};
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::CertificateDer;
use std::path::Path;

/// The certificates of a PEM or DER file, in file order. A file with none, or with a
/// certificate block that is not a certificate, is bad input.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, AppError> {
    let bytes = read_capped(path, CERT_CAP)?;
    let shown = path.display().to_string();
    let certs = if looks_like_pem(&bytes) {
        let mut out = Vec::new();
        for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
            match item {
                Ok((SectionKind::Certificate, der)) => out.push(CertificateDer::from(der)),
                Ok(_) => {}
                Err(e) => {
                    return Err(AppError::catalogued(
                        "trust.file_bad_pem",
                        &[("file", &shown), ("error", &e.to_string())],
                    ))
                }
            }
        }
        out
    } else if bytes.first() == Some(&0x30) {
        vec![CertificateDer::from(bytes)]
    } else {
        Vec::new()
    };
    if certs.is_empty() {
        return Err(AppError::catalogued(
            "trust.file_no_cert",
            &[("file", &shown)],
        ));
    }
    Ok(certs)
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn pki(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/pki")
            .join(name)
    }

    #[test]
    fn pem_and_der_files_give_their_certificates() {
        let pem = read_certs(&pki("root.pem")).unwrap();
        assert_eq!(pem.len(), 1);
        let dir = tempfile::tempdir().unwrap();
        let der = dir.path().join("root.der");
        std::fs::write(&der, pem[0].as_ref()).unwrap();
        assert_eq!(read_certs(&der).unwrap(), pem);
    }

    #[test]
    fn a_file_without_a_certificate_is_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a certificate").unwrap();
        let e = read_certs(&text).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("notes.txt"), "{e}");
    }
}
