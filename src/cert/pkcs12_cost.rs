//! What opening a PKCS#12 file or an encrypted PKCS#8 key would cost, read before any key
//! derivation runs.
//!
//! Every shrouded key bag, every encrypted safe and the integrity check (MAC) of a PKCS#12
//! file runs a key derivation with its own iteration count. A file of a few MB can ask for
//! thousands of them at a million iterations each (tens of minutes of CPU). This walks the
//! DER that is readable without the password and sums the iteration counts of every
//! key-derivation parameter set it finds (`SEQUENCE { salt OCTET STRING, iterations INTEGER …}`
//! for PBKDF2 and the PKCS#12 PBE schemes; `MacData` ends with the same pair). Bags inside an
//! encrypted safe are not visible before decryption; the run's deadline bounds those.

/// The key-derivation iterations one file may ask for in total (a usual file: 3 × 2048; the
/// strongest common export: a MAC and a key at 1,000,000 each).
pub const MAX_TOTAL_ITERATIONS: u64 = 4_000_000;
/// The memory one scrypt derivation may ask for (`128 · r · N` bytes; OpenSSL's default is 1 MiB
/// at N = 16384, r = 8; its own ceiling 32 MiB).
pub const MAX_SCRYPT_BYTES: u64 = 64 * 1024 * 1024;
/// Nesting deeper than this is not walked (a real file is about 12 levels deep).
const MAX_DEPTH: usize = 24;

/// The key derivations found: how many, and their iterations summed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub derivations: u64,
    pub iterations: u64,
    /// The largest memory an scrypt derivation asks for, in bytes.
    pub scrypt_bytes: u64,
}

impl Cost {
    /// Within both limits.
    pub fn affordable(&self) -> bool {
        self.iterations <= MAX_TOTAL_ITERATIONS && self.scrypt_bytes <= MAX_SCRYPT_BYTES
    }
}

/// The DER of the scrypt OID (1.3.6.1.4.1.11591.4.11), tag and length included.
const SCRYPT_OID: [u8; 11] = [
    0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b,
];

/// The cost of opening `der` as PKCS#12 (zero when it is not DER at all).
pub fn cost(der: &[u8]) -> Cost {
    let mut c = Cost::default();
    walk(der, 0, &mut c);
    c
}

/// One DER element: tag, content, and the rest after it.
fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, b) = b.split_first()?;
    let (len, b) = if first < 0x80 {
        (first as usize, b)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let len = b[..n].iter().fold(0usize, |a, &x| (a << 8) | x as usize);
        (len, &b[n..])
    };
    if b.len() < len {
        return None;
    }
    Some((tag, &b[..len], &b[len..]))
}

fn children(mut b: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while !b.is_empty() {
        match element(b) {
            Some((t, c, rest)) => {
                out.push((t, c));
                b = rest;
            }
            None => return Vec::new(),
        }
    }
    out
}

/// A small non-negative INTEGER's value (iteration counts fit in 4 bytes).
fn integer(c: &[u8]) -> Option<u64> {
    if c.is_empty() || c.len() > 5 || c[0] & 0x80 != 0 {
        return None;
    }
    Some(c.iter().fold(0u64, |a, &x| (a << 8) | x as u64))
}

fn walk(b: &[u8], depth: usize, cost: &mut Cost) {
    if depth > MAX_DEPTH {
        return;
    }
    for (tag, content) in children(b) {
        match tag {
            // SEQUENCE, SET and context-specific constructed: look inside.
            0x30 | 0x31 | 0xa0..=0xbf => {
                let kids = children(content);
                // AlgorithmIdentifier { scrypt, SEQUENCE { salt, N, r, p, … } }
                if content.starts_with(&SCRYPT_OID) {
                    if let Some((0x30, params)) = kids.get(1).copied() {
                        let p = children(params);
                        let int = |i: usize| {
                            p.get(i)
                                .filter(|(t, _)| *t == 0x02)
                                .and_then(|(_, c)| integer(c))
                        };
                        let (n, r) = (int(1).unwrap_or(u64::MAX), int(2).unwrap_or(u64::MAX));
                        let bytes = n.saturating_mul(r).saturating_mul(128);
                        cost.scrypt_bytes = cost.scrypt_bytes.max(bytes);
                    }
                }
                // salt OCTET STRING followed by iterations INTEGER: one key derivation.
                for pair in kids.windows(2) {
                    if pair[0].0 == 0x04 && pair[1].0 == 0x02 {
                        if let Some(n) = integer(pair[1].1) {
                            cost.derivations += 1;
                            cost.iterations = cost.iterations.saturating_add(n);
                        }
                    }
                }
                walk(content, depth + 1, cost);
            }
            // OCTET STRING: the plain safes of a PKCS#12 are DER inside one.
            0x04 if content.first() == Some(&0x30) => walk(content, depth + 1, cost),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pki(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/pki")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn usual_files_cost_a_few_thousand_rounds() {
        for f in ["client.p12", "client-legacy.p12", "client-3des.p12"] {
            let c = cost(&pki(f));
            assert!(c.derivations >= 2, "{f}: {c:?}");
            assert!(c.iterations >= 2 * 1000, "{f}: {c:?}");
            assert!(c.iterations < MAX_TOTAL_ITERATIONS, "{f}: {c:?}");
        }
        assert_eq!(cost(b"not der"), Cost::default());
    }

    #[test]
    fn scrypt_memory_is_read() {
        // AlgorithmIdentifier { scrypt, { salt "ab", N = 2^20, r = 8, p = 1 } }
        let params = [
            &[0x30, 0x0f, 0x04, 0x02, b'a', b'b'][..],
            &[0x02, 0x03, 0x10, 0x00, 0x00],
            &[0x02, 0x01, 0x08],
            &[0x02, 0x01, 0x01],
        ]
        .concat();
        let alg = [
            &[0x30, (SCRYPT_OID.len() + params.len()) as u8][..],
            &SCRYPT_OID,
            &params,
        ]
        .concat();
        let c = cost(&alg);
        assert_eq!(c.scrypt_bytes, (1 << 20) * 8 * 128);
        assert!(!c.affordable());
    }
}
