//! TLS set-up with rustls (ring provider): server and client configs that negotiate `h2` by ALPN.
//!
//! RFC 9113 §3.2: HTTP/2 over TLS is identified by the ALPN token `h2`; both configs offer only
//! that token. rustls accepts a client that sends no ALPN at all, so the server driver checks the
//! negotiated protocol after the handshake ([`check_alpn`]) and refuses anything but `h2`.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

/// The ALPN token for HTTP/2 over TLS (RFC 9113 §3.2).
pub const ALPN_H2: &[u8] = b"h2";

/// The crypto provider every config here uses: ring, chosen explicitly so that no process-wide
/// default has to be installed.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate chain and its private key, as loaded from PEM or generated.
pub struct CertKey {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl CertKey {
    /// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    ///
    /// Errors name the file and what is wrong with it, ready for a one-line message.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<CertKey, String> {
        let chain = load_certs(cert)?;
        let key_file = std::fs::File::open(key)
            .map_err(|e| format!("cannot read key file {}: {e}", key.display()))?;
        let key = rustls_pemfile::private_key(&mut BufReader::new(key_file))
            .map_err(|e| format!("invalid key file {}: {e}", key.display()))?
            .ok_or_else(|| format!("no private key found in {}", key.display()))?;
        Ok(CertKey { chain, key })
    }

    /// Generates a self-signed certificate for `localhost` and `127.0.0.1` (rcgen).
    ///
    /// Also returns the certificate in PEM so that a client can trust it (`--cacert`).
    pub fn self_signed() -> Result<(CertKey, String), String> {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let generated = rcgen::generate_simple_self_signed(names)
            .map_err(|e| format!("cannot generate a self-signed certificate: {e}"))?;
        let pem = generated.cert.pem();
        let key = PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der());
        Ok((
            CertKey {
                chain: vec![generated.cert.der().clone()],
                key: PrivateKeyDer::Pkcs8(key),
            },
            pem,
        ))
    }
}

/// Reads every certificate of a PEM file; an empty or unreadable file is an error.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read certificate file {}: {e}", path.display()))?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid certificate file {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate found in {}", path.display()));
    }
    Ok(certs)
}

/// A server config offering only `h2` by ALPN, TLS 1.2 and 1.3 (RFC 9113 §9.2).
pub fn server_config(cert: CertKey) -> Result<Arc<rustls::ServerConfig>, String> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_no_client_auth()
        .with_single_cert(cert.chain, cert.key)
        .map_err(|e| format!("certificate and key do not make a valid TLS identity: {e}"))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// How a client decides to trust the server's certificate.
#[derive(Clone, Debug, Default)]
pub enum Trust {
    /// The Mozilla root store shipped by `webpki-roots`.
    #[default]
    WebPki,
    /// Only the certificates of this PEM file (e.g. a test CA or a self-signed server cert).
    CaFile(std::path::PathBuf),
    /// These DER certificates only.
    Certs(Vec<CertificateDer<'static>>),
    /// Accept any certificate: see [`danger::AcceptAnyCert`]. For tests and `--insecure`.
    DangerAcceptAny,
}

/// A client config offering only `h2` by ALPN.
pub fn client_config(trust: &Trust) -> Result<Arc<rustls::ClientConfig>, String> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    let mut config = match trust {
        Trust::WebPki => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::CaFile(path) => {
            for cert in load_certs(path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("invalid CA certificate in {}: {e}", path.display()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Certs(certs) => {
            for cert in certs {
                roots
                    .add(cert.clone())
                    .map_err(|e| format!("invalid CA certificate: {e}"))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::DangerAcceptAny => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(danger::AcceptAnyCert::new(provider())))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// Checks that the handshake negotiated `h2` (RFC 9113 §3.2).
///
/// rustls refuses a client whose ALPN list lacks `h2`, but lets through a client that sent no
/// ALPN extension at all; such a client expects HTTP/1.1 and must not be spoken HTTP/2 to.
pub fn check_alpn(negotiated: Option<&[u8]>) -> Result<(), String> {
    match negotiated {
        Some(ALPN_H2) => Ok(()),
        Some(other) => Err(format!(
            "peer negotiated ALPN {:?}, not h2",
            String::from_utf8_lossy(other)
        )),
        None => Err("peer did not negotiate h2 by ALPN (no ALPN offered)".to_string()),
    }
}

/// Certificate verification that verifies nothing. Only for tests and `--insecure`.
pub mod danger {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};
    use std::sync::Arc;

    /// Accepts any server certificate, for any name, expired or not.
    ///
    /// The handshake signatures are still checked against the presented certificate, so the peer
    /// must hold the key of the certificate it shows; but nothing says that certificate is the
    /// right one. A man in the middle is not detected.
    #[derive(Debug)]
    pub struct AcceptAnyCert {
        provider: Arc<CryptoProvider>,
    }

    impl AcceptAnyCert {
        pub fn new(provider: Arc<CryptoProvider>) -> Self {
            AcceptAnyCert { provider }
        }
    }

    impl ServerCertVerifier for AcceptAnyCert {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
}
