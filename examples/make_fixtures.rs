//! Generates the test PKI in `fixtures/pki/`: `cargo run --example make_fixtures`.
//!
//! Certificates are made with rcgen. Keys already present in `fixtures/pki/` are reused, so a
//! second run re-issues the same names, keys and serials. The `openssl` command line makes the
//! few files rcgen cannot: the RSA key, the SHA-1 signed leaf, the encrypted PEM key and the
//! PKCS#12 files (exactly as people export them with OpenSSL).
//!
//! Everything valid runs from 2025-01-01 to 2045-01-01, so tests keep working for twenty years;
//! the deliberately expired and not-yet-valid variants have fixed dates outside that window.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSWORD: &str = "certprobe-test";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Out {
    dir: PathBuf,
}

impl Out {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn s(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }
    fn write(&self, name: &str, data: impl AsRef<[u8]>) -> Result<()> {
        fs::write(self.path(name), data)?;
        Ok(())
    }
    /// The key in `name` if it exists, else a new ECDSA P-256 key written there.
    fn key(&self, name: &str) -> Result<KeyPair> {
        if let Ok(pem) = fs::read_to_string(self.path(name)) {
            return Ok(KeyPair::from_pem(&pem)?);
        }
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        self.write(name, key.serialize_pem())?;
        Ok(key)
    }
    /// The RSA-2048 key in `name` if it exists, else a new one made by openssl.
    fn rsa_key(&self, name: &str) -> Result<KeyPair> {
        if !self.path(name).exists() {
            openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &self.s(name),
            ])?;
        }
        let pem = fs::read_to_string(self.path(name))?;
        Ok(KeyPair::from_pem_and_sign_algo(
            &pem,
            &rcgen::PKCS_RSA_SHA256,
        )?)
    }
}

fn openssl(args: &[&str]) -> Result<()> {
    let out = Command::new("openssl").args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

/// `client-sha1.pem`: S47000010 with the client key, signed with ECDSA-SHA1 by the intermediate.
fn sha1_leaf(out: &Out) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("certprobe-fixtures-{}", std::process::id()));
    fs::create_dir_all(&tmp)?;
    let t = |n: &str| tmp.join(n).to_string_lossy().into_owned();
    fs::write(tmp.join("index.txt"), "")?;
    fs::write(tmp.join("serial"), "300A\n")?;
    fs::write(
        tmp.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca = d\n[d]\ndatabase = {}\nnew_certs_dir = {}\nserial = {}\n\
             policy = p\nunique_subject = no\n[p]\ncommonName = supplied\n",
            t("index.txt"),
            t(""),
            t("serial")
        ),
    )?;
    fs::write(
        tmp.join("ext.cnf"),
        "keyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = clientAuth\nauthorityKeyIdentifier = keyid\n\
         subjectKeyIdentifier = hash\n",
    )?;
    let (key, csr, cnf, ext) = (out.s("client.key"), t("csr.pem"), t("ca.cnf"), t("ext.cnf"));
    openssl(&[
        "req",
        "-new",
        "-key",
        &key,
        "-subj",
        "/C=JP/O=SECOM Trust Systems CO.,LTD./OU=certprobe test/CN=S47000010",
        "-out",
        &csr,
    ])?;
    let (cert, cakey, target) = (
        out.s("inter.pem"),
        out.s("inter.key"),
        out.s("client-sha1.pem"),
    );
    let result = openssl(&[
        "ca",
        "-batch",
        "-config",
        &cnf,
        "-in",
        &csr,
        "-out",
        &target,
        "-startdate",
        "20250101000000Z",
        "-enddate",
        "20450101000000Z",
        "-md",
        "sha1",
        "-cert",
        &cert,
        "-keyfile",
        &cakey,
        "-notext",
        "-extfile",
        &ext,
        "-preserveDN",
    ]);
    let _ = fs::remove_dir_all(&tmp);
    result
}

fn dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (t, v) in parts {
        dn.push(t.clone(), *v);
    }
    dn
}

/// Validity window of everything meant to be valid.
fn valid(p: &mut CertificateParams) {
    p.not_before = date_time_ymd(2025, 1, 1);
    p.not_after = date_time_ymd(2045, 1, 1);
}

fn ca_params(name: DistinguishedName, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.serial_number = Some(SerialNumber::from(serial));
    p.use_authority_key_identifier_extension = true;
    valid(&mut p);
    p
}

fn client_params(cn: &str, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(&[
        (DnType::CountryName, "JP"),
        (DnType::OrganizationName, "SECOM Trust Systems CO.,LTD."),
        (DnType::OrganizationalUnitName, "certprobe test"),
        (DnType::CommonName, cn),
    ]);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.serial_number = Some(SerialNumber::from(serial));
    p.use_authority_key_identifier_extension = true;
    valid(&mut p);
    p
}

fn root_name() -> DistinguishedName {
    dn(&[
        (DnType::CountryName, "JP"),
        (DnType::OrganizationName, "SECOM Trust.net"),
        (
            DnType::OrganizationalUnitName,
            "Security Communication RootCA1",
        ),
    ])
}

fn inter_name() -> DistinguishedName {
    dn(&[
        (DnType::CountryName, "JP"),
        (DnType::OrganizationName, "SECOM Trust Systems CO.,LTD."),
        (DnType::CommonName, "SECOM Passport for Member PUB CA1"),
    ])
}

fn main() -> Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/pki");
    fs::create_dir_all(dir.join("real"))?;
    let out = Out { dir };
    out.write("password.txt", format!("{PASSWORD}\n"))?;

    // --- the client PKI: root → intermediate → S47… leaf ---------------------------------
    let root_key = out.key("root.key")?;
    let root_params = ca_params(root_name(), 0x1001);
    let root = root_params.self_signed(&root_key)?;
    out.write("root.pem", root.pem())?;
    out.write("root.der", root.der())?;
    let root_issuer = Issuer::new(root_params.clone(), &root_key);

    // The same root, expired (same name and key): a chain through it must fail.
    let mut p = root_params.clone();
    p.not_before = date_time_ymd(2003, 9, 30);
    p.not_after = date_time_ymd(2023, 9, 30);
    p.serial_number = Some(SerialNumber::from(0x1002u64));
    out.write("root-expired.pem", p.self_signed(&root_key)?.pem())?;

    let inter_key = out.key("inter.key")?;
    let mut inter_params = ca_params(inter_name(), 0x2001);
    inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let inter = inter_params.signed_by(&inter_key, &root_issuer)?;
    out.write("inter.pem", inter.pem())?;
    let inter_issuer = Issuer::new(inter_params.clone(), &inter_key);

    // The same intermediate, expired.
    let mut p = inter_params.clone();
    p.not_before = date_time_ymd(2019, 1, 1);
    p.not_after = date_time_ymd(2024, 1, 1);
    p.serial_number = Some(SerialNumber::from(0x2002u64));
    out.write(
        "inter-expired.pem",
        p.signed_by(&inter_key, &root_issuer)?.pem(),
    )?;

    // Another intermediate under the same root: the "wrong issuer".
    let other_key = out.key("other-inter.key")?;
    let other_params = ca_params(
        dn(&[
            (DnType::CountryName, "JP"),
            (DnType::OrganizationName, "SECOM Trust Systems CO.,LTD."),
            (DnType::CommonName, "SECOM Web Server CA1"),
        ]),
        0x2101,
    );
    let other = other_params.signed_by(&other_key, &root_issuer)?;
    out.write("other-inter.pem", other.pem())?;
    let other_issuer = Issuer::new(other_params, &other_key);

    let client_key = out.key("client.key")?;
    let client = client_params("S47000001", 0x3001).signed_by(&client_key, &inter_issuer)?;
    out.write("client.pem", client.pem())?;
    out.write("client.der", client.der())?;
    out.write(
        "client-chain.pem",
        format!("{}{}", client.pem(), inter.pem()),
    )?;

    // Broken leaves (all with the client key unless said otherwise).
    let mut p = client_params("S47000002", 0x3002);
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2021, 1, 1);
    out.write(
        "client-expired.pem",
        p.signed_by(&client_key, &inter_issuer)?.pem(),
    )?;

    let mut p = client_params("S47000003", 0x3003);
    p.not_before = date_time_ymd(2046, 1, 1);
    p.not_after = date_time_ymd(2050, 1, 1);
    out.write(
        "client-notyet.pem",
        p.signed_by(&client_key, &inter_issuer)?.pem(),
    )?;

    let mut p = client_params("S47000004", 0x3004);
    p.extended_key_usages = vec![];
    out.write(
        "client-noeku.pem",
        p.signed_by(&client_key, &inter_issuer)?.pem(),
    )?;

    let mut p = client_params("S47000005", 0x3005);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    out.write(
        "client-servereku.pem",
        p.signed_by(&client_key, &inter_issuer)?.pem(),
    )?;

    let mut p = client_params("S47000006", 0x3006);
    p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
    out.write(
        "client-nodigsig.pem",
        p.signed_by(&client_key, &inter_issuer)?.pem(),
    )?;

    let wrong = client_params("S47000007", 0x3007).signed_by(&client_key, &other_issuer)?;
    out.write("client-wrong-issuer.pem", wrong.pem())?;
    out.write(
        "client-wrong-issuer-chain.pem",
        format!("{}{}", wrong.pem(), other.pem()),
    )?;

    out.write(
        "client-badname.pem",
        client_params("T12345678", 0x3008)
            .signed_by(&client_key, &inter_issuer)?
            .pem(),
    )?;

    // A key that belongs to no certificate here.
    out.key("client-wrong.key")?;

    // RSA-2048 client (as the real service issues), its key as PKCS#8 and as PKCS#1.
    let rsa_key = out.rsa_key("client-rsa.key")?;
    let rsa = client_params("S47000009", 0x3009).signed_by(&rsa_key, &inter_issuer)?;
    out.write("client-rsa.pem", rsa.pem())?;
    openssl(&[
        "pkey",
        "-in",
        &out.s("client-rsa.key"),
        "-traditional",
        "-out",
        &out.s("client-rsa-pkcs1.key"),
    ])?;
    // The client PKI again in RSA-2048 throughout, as the real service's chain is (RootCA1 and
    // the member CA are RSA-2048): the chain-validation benchmark measures both kinds.
    let rsa_root_key = out.rsa_key("rsa-root.key")?;
    let rsa_root_params = ca_params(
        dn(&[
            (DnType::CountryName, "JP"),
            (DnType::OrganizationName, "certprobe test"),
            (DnType::OrganizationalUnitName, "certprobe RSA Test Root"),
        ]),
        0x1101,
    );
    out.write(
        "rsa-root.pem",
        rsa_root_params.self_signed(&rsa_root_key)?.pem(),
    )?;
    let rsa_root_issuer = Issuer::new(rsa_root_params, &rsa_root_key);
    let rsa_inter_key = out.rsa_key("rsa-inter.key")?;
    let mut rsa_inter_params = ca_params(
        dn(&[
            (DnType::CountryName, "JP"),
            (DnType::OrganizationName, "certprobe test"),
            (DnType::CommonName, "certprobe RSA Test Member CA"),
        ]),
        0x2201,
    );
    rsa_inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let rsa_inter = rsa_inter_params.signed_by(&rsa_inter_key, &rsa_root_issuer)?;
    out.write("rsa-inter.pem", rsa_inter.pem())?;
    let rsa_inter_issuer = Issuer::new(rsa_inter_params, &rsa_inter_key);
    let all_rsa = client_params("S47000011", 0x300B).signed_by(&rsa_key, &rsa_inter_issuer)?;
    out.write("client-allrsa.pem", all_rsa.pem())?;

    // The client key as SEC1 ("EC PRIVATE KEY") and as encrypted PKCS#8.
    openssl(&[
        "pkey",
        "-in",
        &out.s("client.key"),
        "-traditional",
        "-out",
        &out.s("client-sec1.key"),
    ])?;
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        &out.s("client.key"),
        "-passout",
        &format!("pass:{PASSWORD}"),
        "-out",
        &out.s("client-enc.key"),
    ])?;

    // SHA-1 signed leaf, issued by the intermediate with `openssl ca` (rcgen signs no SHA-1).
    sha1_leaf(&out)?;

    // PKCS#12: modern (OpenSSL 3 default: AES-256-CBC, PBKDF2, HMAC-SHA256), legacy
    // (`-legacy`: RC2-40 certificates, 3DES key, SHA-1 MAC), Windows "TripleDES-SHA1".
    let pass = format!("pass:{PASSWORD}");
    let (leaf, key, chain) = (out.s("client.pem"), out.s("client.key"), out.s("inter.pem"));
    let p12 = |name: &str, extra: &[&str]| -> Result<()> {
        let target = out.s(name);
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            &leaf,
            "-inkey",
            &key,
            "-certfile",
            &chain,
            "-name",
            "S47000001",
            "-passout",
            &pass,
            "-out",
            &target,
        ];
        args.extend_from_slice(extra);
        openssl(&args)
    };
    p12("client.p12", &[])?;
    p12("client-legacy.p12", &["-legacy"])?;
    p12(
        "client-3des.p12",
        &[
            "-keypbe",
            "PBE-SHA1-3DES",
            "-certpbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
        ],
    )?;
    // A PKCS#12 with the leaf and key only (no intermediate).
    openssl(&[
        "pkcs12",
        "-export",
        "-in",
        &out.s("client.pem"),
        "-inkey",
        &out.s("client.key"),
        "-name",
        "S47000001",
        "-passout",
        &format!("pass:{PASSWORD}"),
        "-out",
        &out.s("client-leafonly.p12"),
    ])?;

    // Damaged and wrong files.
    let pem = client.pem();
    out.write("client-truncated.pem", &pem[..pem.len() / 2])?;
    let p12_bytes = fs::read(out.path("client.p12"))?;
    out.write("client-truncated.p12", &p12_bytes[..p12_bytes.len() / 2])?;
    out.write("empty.pem", "")?;
    out.write(
        "nocert.pem",
        fs::read_to_string(out.path("client-wrong.key"))?,
    )?;
    // Fixed pseudo-random bytes (xorshift), so the file is the same on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    out.write("garbage.bin", garbage)?;

    // --- servers for the network tests ----------------------------------------------------
    let sroot_key = out.key("server-root.key")?;
    let sroot_params = ca_params(
        dn(&[
            (DnType::CountryName, "JP"),
            (DnType::OrganizationName, "certprobe test"),
            (DnType::CommonName, "certprobe Test Public Root"),
        ]),
        0x4001,
    );
    out.write(
        "server-root.pem",
        sroot_params.self_signed(&sroot_key)?.pem(),
    )?;
    let sroot_issuer = Issuer::new(sroot_params, &sroot_key);

    let server_params = |cn: &str, serial: u64| -> Result<CertificateParams> {
        let mut p = CertificateParams::new(vec!["localhost".to_string(), "*.test".to_string()])?;
        p.subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse()?));
        p.subject_alt_names.push(SanType::IpAddress("::1".parse()?));
        p.distinguished_name = dn(&[(DnType::CommonName, cn)]);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.serial_number = Some(SerialNumber::from(serial));
        p.use_authority_key_identifier_extension = true;
        valid(&mut p);
        Ok(p)
    };
    let server_key = out.key("server.key")?;
    out.write(
        "server.pem",
        server_params("localhost", 0x4002)?
            .signed_by(&server_key, &sroot_issuer)?
            .pem(),
    )?;

    let unknown_ca_key = out.key("unknown-ca.key")?;
    let unknown_ca_params = ca_params(
        dn(&[
            (DnType::OrganizationName, "Nobody Trusts Me"),
            (DnType::CommonName, "Unknown Test CA"),
        ]),
        0x5001,
    );
    out.write(
        "unknown-ca.pem",
        unknown_ca_params.self_signed(&unknown_ca_key)?.pem(),
    )?;
    let unknown_issuer = Issuer::new(unknown_ca_params, &unknown_ca_key);
    let unknown_key = out.key("server-unknown.key")?;
    out.write(
        "server-unknown.pem",
        server_params("localhost", 0x5002)?
            .signed_by(&unknown_key, &unknown_issuer)?
            .pem(),
    )?;

    // --- the genuine article ---------------------------------------------------------------
    let real = Path::new("/etc/ssl/certs/Security_Communication_Root_CA.pem");
    match fs::read(real) {
        Ok(bytes) => out.write("real/Security_Communication_Root_CA.pem", bytes)?,
        Err(e) => eprintln!("keeping the committed real root: {}: {e}", real.display()),
    }

    println!("wrote {}", out.dir.display());
    Ok(())
}
