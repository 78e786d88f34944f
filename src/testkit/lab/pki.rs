//! The lab's throwaway credentials: a CA, the API server's serving certificate for 127.0.0.1,
//! the service-account signing key, and one static bearer token per identity.

use std::path::{Path, PathBuf};

use rand::distr::{Alphanumeric, SampleString};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use super::LabError;

/// Who talks to the API server, each with its own token (`--token-auth-file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Cluster admin (`system:masters`): tests, scenario helpers, `kubectl`.
    Admin,
    /// The bot, with no permissions at all until an RBAC manifest grants them.
    Bot,
    /// The simulated kubelet (`system:masters`: the lab runs no Node authorizer).
    Kubelet,
    /// kube-controller-manager.
    ControllerManager,
    /// kube-scheduler.
    Scheduler,
}

impl Identity {
    pub const ALL: [Identity; 5] = [
        Identity::Admin,
        Identity::Bot,
        Identity::Kubelet,
        Identity::ControllerManager,
        Identity::Scheduler,
    ];

    /// The user name the API server (and RBAC) sees.
    pub fn user(self) -> &'static str {
        match self {
            Identity::Admin => "lab-admin",
            Identity::Bot => "robot-sre",
            Identity::Kubelet => "lab-kubelet",
            Identity::ControllerManager => "system:kube-controller-manager",
            Identity::Scheduler => "system:kube-scheduler",
        }
    }

    fn groups(self) -> &'static str {
        match self {
            Identity::Bot => "",
            _ => "system:masters",
        }
    }

    /// Short name for files: `<name>.kubeconfig`.
    pub fn file_stem(self) -> &'static str {
        match self {
            Identity::Admin => "admin",
            Identity::Bot => "bot",
            Identity::Kubelet => "kubelet",
            Identity::ControllerManager => "controller-manager",
            Identity::Scheduler => "scheduler",
        }
    }
}

/// Paths of the credential files written into the lab directory. `Debug` shows the paths,
/// never the tokens.
#[derive(Clone)]
pub struct Credentials {
    pub ca_cert: PathBuf,
    pub serving_cert: PathBuf,
    pub serving_key: PathBuf,
    pub service_account_key: PathBuf,
    pub service_account_public_key: PathBuf,
    pub token_file: PathBuf,
    tokens: Vec<(Identity, String)>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("ca_cert", &self.ca_cert)
            .field("token_file", &self.token_file)
            .field("tokens", &"********")
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Generates everything into `dir`.
    ///
    /// # Errors
    /// When key generation or writing a file fails.
    pub fn generate(dir: &Path) -> Result<Self, LabError> {
        let pki =
            |error: rcgen::Error| LabError::Setup(format!("generating lab certificates: {error}"));

        let ca_key = KeyPair::generate().map_err(pki)?;
        let mut ca_params = CertificateParams::default();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "robot-sre lab CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).map_err(pki)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let serving_key = KeyPair::generate().map_err(pki)?;
        let mut serving_params = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
            "kubernetes.default.svc".to_owned(),
        ])
        .map_err(pki)?;
        serving_params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        let serving_cert = serving_params
            .signed_by(&serving_key, &issuer)
            .map_err(pki)?;

        let service_account = KeyPair::generate().map_err(pki)?;
        let tokens: Vec<(Identity, String)> = Identity::ALL
            .iter()
            .map(|&identity| (identity, Alphanumeric.sample_string(&mut rand::rng(), 40)))
            .collect();
        let token_csv: String = tokens
            .iter()
            .map(|(identity, token)| {
                format!(
                    "{token},{user},{user},\"{groups}\"\n",
                    user = identity.user(),
                    groups = identity.groups()
                )
            })
            .collect();

        let credentials = Self {
            ca_cert: dir.join("ca.crt"),
            serving_cert: dir.join("apiserver.crt"),
            serving_key: dir.join("apiserver.key"),
            service_account_key: dir.join("service-account.key"),
            service_account_public_key: dir.join("service-account.pub"),
            token_file: dir.join("tokens.csv"),
            tokens,
        };
        for (path, contents) in [
            (&credentials.ca_cert, ca_cert.pem()),
            (&credentials.serving_cert, serving_cert.pem()),
            (&credentials.serving_key, serving_key.serialize_pem()),
            (
                &credentials.service_account_key,
                service_account.serialize_pem(),
            ),
            (
                &credentials.service_account_public_key,
                service_account.public_key_pem(),
            ),
            (&credentials.token_file, token_csv),
        ] {
            write_private(path, &contents)?;
        }
        Ok(credentials)
    }

    /// The bearer token of `identity`.
    pub fn token(&self, identity: Identity) -> &str {
        self.tokens
            .iter()
            .find(|(candidate, _)| *candidate == identity)
            .map(|(_, token)| token.as_str())
            .expect("every identity has a token")
    }
}

/// Writes a file only its owner can read.
pub(super) fn write_private(path: &Path, contents: &str) -> Result<(), LabError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .map_err(|error| LabError::Setup(format!("writing {}: {error}", path.display())))
}
