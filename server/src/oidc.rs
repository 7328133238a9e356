//! Sign-in with the organisation's identity provider (OpenID Connect, authorization code
//! with PKCE): the server is the confidential client; the browser only ever holds Lots' own
//! session cookie and, for the minutes of one sign-in, [`Pending`] in a signed cookie.
//!
//! The provider is discovered in the background at start-up and again at the start of every
//! sign-in (its signing keys rotate): a provider that is down when the server starts neither
//! stops the server nor password sign-in, and a sign-in while it is down gets a clear page
//! ([`OidcError::Unreachable`]). The HTTP handlers are in `api/oidc.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, TokenResponse as _,
};
use sha2::Sha256;

use crate::config::Config;

/// How long a started sign-in may take at the provider.
pub const PENDING_SECONDS: i64 = 600;
/// The cookie holding a started sign-in.
pub const PENDING_COOKIE: &str = "lots_oidc";
/// How long discovered metadata and signing keys are used before they are fetched again.
pub const REDISCOVER_AFTER: Duration = Duration::from_secs(15 * 60);

/// The client as discovery makes it: authorization endpoint known, token and user-info
/// endpoints as the provider announced them.
type Provider = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in with the provider did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider did not answer (down, or unreachable from the server).
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    /// No started sign-in in this browser, an expired one, or a `state` that is not its own.
    #[error("this sign-in was not started in this browser, or took too long")]
    NotStarted,
    /// The provider said no (the person cancelled, or is not allowed to use Lots there).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// The provider's answer did not verify: a bad ID token (signature, issuer, audience,
    /// expiry, nonce), or a code it would not exchange.
    #[error("the identity provider's answer did not verify: {0}")]
    Invalid(String),
}

/// What the verified ID token says about who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The issuer, as the token names it (equal to the configured one: verified).
    pub issuer: String,
    /// The person's subject at the issuer.
    pub subject: String,
    /// An e-mail address, if the provider gave one: shown to help an administrator find whom
    /// to link, never used to sign anyone in.
    pub email: Option<String>,
}

/// A started sign-in: what the callback needs, kept in the browser in a signed, HttpOnly
/// cookie for [`PENDING_SECONDS`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// The `state` sent to the provider, which it must send back.
    pub state: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The device label the app asked for, as with password sign-in.
    pub device_label: Option<String>,
    /// The device signed in on before, as with password sign-in.
    pub device_id: Option<String>,
    /// Until when (ms since the Unix epoch).
    pub expires_at: i64,
}

/// The configured identity provider.
pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect: RedirectUrl,
    /// The name on the sign-in button.
    pub name: String,
    /// The key the pending cookie is signed with.
    cookie_key: Vec<u8>,
    http: openidconnect::reqwest::Client,
    discovered: tokio::sync::Mutex<Option<(Arc<Provider>, Instant)>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Oidc")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Whether `issuer` may be an issuer: https, or http on this machine's loopback (for tests
/// and a provider on the same host).
pub fn check_issuer(issuer: &str) -> anyhow::Result<()> {
    let url = url_of(issuer)?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        anyhow::bail!(
            "--oidc-issuer {issuer:?} must be an https URL (http only on 127.0.0.1 or localhost)"
        );
    }
    Ok(())
}

fn url_of(issuer: &str) -> anyhow::Result<openidconnect::url::Url> {
    openidconnect::url::Url::parse(issuer)
        .map_err(|error| anyhow::anyhow!("--oidc-issuer {issuer:?} is not a URL: {error}"))
}

impl Oidc {
    /// The provider the configuration names, if it names one; reads the client secret's file.
    /// Nothing is fetched from the provider here.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let (Some(issuer), Some(client_id), Some(secret_file)) = (
            &config.oidc_issuer,
            &config.oidc_client_id,
            &config.oidc_client_secret_file,
        ) else {
            return Ok(None);
        };
        check_issuer(issuer)?;
        let secret = std::fs::read_to_string(secret_file).map_err(|error| {
            anyhow::anyhow!(
                "cannot read the client secret file {}: {error}",
                secret_file.display()
            )
        })?;
        let secret = secret.lines().next().unwrap_or_default().trim().to_owned();
        if secret.is_empty() {
            anyhow::bail!("the client secret file {} is empty", secret_file.display());
        }
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send the server elsewhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()?;
        Ok(Some(Self::new(
            issuer,
            client_id,
            &secret,
            &config.public_origin,
            config.oidc_name.trim(),
            http,
        )?))
    }

    fn new(
        issuer: &str,
        client_id: &str,
        secret: &str,
        public_origin: &str,
        name: &str,
        http: openidconnect::reqwest::Client,
    ) -> anyhow::Result<Self> {
        let mut mac = <Hmac<Sha256>>::new_from_slice(secret.as_bytes())?;
        mac.update(b"lots: the pending OpenID Connect sign-in's cookie");
        Ok(Self {
            issuer: IssuerUrl::new(issuer.to_owned())?,
            client_id: ClientId::new(client_id.to_owned()),
            client_secret: ClientSecret::new(secret.to_owned()),
            redirect: RedirectUrl::new(format!("{public_origin}/auth/oidc/callback"))?,
            name: name.to_owned(),
            cookie_key: mac.finalize().into_bytes().to_vec(),
            http,
            discovered: tokio::sync::Mutex::new(None),
        })
    }

    /// The issuer as configured (and as ID tokens must name it).
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// The provider's metadata and keys: unless `fresh`, the ones fetched within
    /// [`REDISCOVER_AFTER`]; else fetched now.
    async fn provider(&self, fresh: bool) -> Result<Arc<Provider>, OidcError> {
        let mut discovered = self.discovered.lock().await;
        if let Some((provider, at)) = discovered.as_ref()
            && at.elapsed() < REDISCOVER_AFTER
            && !fresh
        {
            return Ok(provider.clone());
        }
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|error| {
                tracing::warn!(error = %error_chain(&error), issuer = %self.issuer.as_str(), "OpenID Connect discovery failed");
                OidcError::Unreachable(error_chain(&error))
            })?;
        let provider = Arc::new(
            CoreClient::from_provider_metadata(
                metadata,
                self.client_id.clone(),
                Some(self.client_secret.clone()),
            )
            .set_redirect_uri(self.redirect.clone()),
        );
        *discovered = Some((provider.clone(), Instant::now()));
        Ok(provider)
    }

    /// Fetches the provider's metadata now, so the first sign-in does not wait for it; a
    /// provider that does not answer is only logged (and asked again at the first sign-in).
    pub async fn discover_in_background(self: Arc<Self>) {
        if self.provider(false).await.is_ok() {
            tracing::info!(issuer = %self.issuer.as_str(), "OpenID Connect provider discovered");
        }
    }

    /// Starts a sign-in: where to send the browser, and the pending sign-in to keep in its
    /// cookie.
    pub async fn begin(
        &self,
        device_label: Option<String>,
        device_id: Option<String>,
        now_millis: i64,
    ) -> Result<(String, Pending), OidcError> {
        // Asked afresh at every start (sign-ins are rare): a provider that is down is found
        // here, with a page that says so, rather than by a browser sent to it in vain; and
        // its current keys are at hand for the way back.
        let provider = self.provider(true).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = provider
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            state: state.secret().clone(),
            verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
            device_label,
            device_id,
            expires_at: now_millis + PENDING_SECONDS * 1000,
        };
        Ok((url.to_string(), pending))
    }

    /// Finishes a sign-in: checks `state` against the pending one, exchanges the code (with
    /// the PKCE verifier and the client secret) and verifies the ID token's signature,
    /// issuer, audience, expiry and nonce.
    pub async fn finish(
        &self,
        pending: &Pending,
        state: &str,
        code: &str,
        now_millis: i64,
    ) -> Result<VerifiedIdentity, OidcError> {
        if pending.expires_at < now_millis || !constant_time_eq(&pending.state, state) {
            return Err(OidcError::NotStarted);
        }
        let provider = self.provider(false).await?;
        let exchange = provider
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|error| OidcError::Invalid(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()));
        let response = exchange
            .request_async(&self.http)
            .await
            .map_err(|error| match error {
                RequestTokenError::Request(error) => OidcError::Unreachable(error_chain(&error)),
                other => OidcError::Invalid(error_chain(&other)),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Invalid("the answer holds no ID token".into()))?;
        let verifier = provider.id_token_verifier();
        let claims = match id_token.claims(&verifier, &Nonce::new(pending.nonce.clone())) {
            Ok(claims) => claims,
            Err(error) => {
                // Perhaps the provider rotated its keys: fetch them again next time.
                *self.discovered.lock().await = None;
                return Err(OidcError::Invalid(error_chain(&error)));
            }
        };
        Ok(VerifiedIdentity {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|email| email.as_str().to_owned()),
        })
    }

    /// The pending sign-in as a cookie value: its JSON and an HMAC-SHA-256 of it, keyed by
    /// the client secret, so every server process sharing the secret can read it and nobody
    /// without it can make one.
    pub fn seal(&self, pending: &Pending) -> String {
        let json = serde_json::to_vec(pending).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(self.mac(payload.as_bytes()).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The pending sign-in a cookie value holds, if this server sealed it.
    pub fn open(&self, sealed: &str) -> Option<Pending> {
        let (payload, tag) = sealed.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(payload.as_bytes()).verify_slice(&tag).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    fn mac(&self, data: &[u8]) -> Hmac<Sha256> {
        // Any key length is accepted by HMAC; this cannot fail.
        let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(&self.cookie_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(data);
        mac
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |difference, (x, y)| difference | (x ^ y))
            == 0
}

/// An error and its sources, in one line (reqwest's own message says little: "error sending
/// request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(secret: &str) -> Oidc {
        Oidc::new(
            "https://login.example/tenant/v2.0",
            "lots",
            secret,
            "https://lots.example",
            "Exempelkommun",
            openidconnect::reqwest::Client::new(),
        )
        .unwrap()
    }

    fn pending() -> Pending {
        Pending {
            state: "state-1".into(),
            verifier: "verifier-1".into(),
            nonce: "nonce-1".into(),
            device_label: Some("Annas telefon".into()),
            device_id: None,
            expires_at: 1_000_000,
        }
    }

    #[test]
    fn only_this_servers_sealed_pending_sign_in_opens() {
        let ours = oidc("the client secret");
        let sealed = ours.seal(&pending());
        assert_eq!(ours.open(&sealed), Some(pending()));
        // Another secret (another installation) cannot make or read one.
        assert_eq!(oidc("another secret").open(&sealed), None);
        // Changed in any way, it does not open.
        let (payload, tag) = sealed.split_once('.').unwrap();
        let mut forged = pending();
        forged.expires_at = i64::MAX;
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(ours.open(&format!("{forged_payload}.{tag}")), None);
        assert_eq!(ours.open(payload), None);
        assert_eq!(ours.open(""), None);
        assert_eq!(ours.open("..."), None);
    }

    #[tokio::test]
    async fn a_callback_with_another_state_or_too_late_is_refused_before_the_provider_is_asked() {
        // The provider's address is never reached: these fail first.
        let ours = oidc("the client secret");
        let started = pending();
        let wrong_state = ours.finish(&started, "state-2", "code", 1_000).await;
        assert!(matches!(wrong_state, Err(OidcError::NotStarted)));
        let too_late = ours.finish(&started, "state-1", "code", 1_000_001).await;
        assert!(matches!(too_late, Err(OidcError::NotStarted)));
    }

    #[tokio::test]
    async fn a_provider_that_does_not_answer_is_unreachable_not_a_failure_to_start() {
        // A port on loopback where nothing listens.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let down = Oidc::new(
            &format!("http://127.0.0.1:{port}"),
            "lots",
            "secret",
            "http://127.0.0.1:8080",
            "Exempelkommun",
            openidconnect::reqwest::Client::new(),
        )
        .unwrap();
        let started = down.begin(None, None, 0).await;
        assert!(
            matches!(started, Err(OidcError::Unreachable(_))),
            "{started:?}"
        );
        let finished = down.finish(&pending(), "state-1", "code", 0).await;
        assert!(
            matches!(finished, Err(OidcError::Unreachable(_))),
            "{finished:?}"
        );
    }

    #[test]
    fn issuers_are_https_except_on_loopback() {
        assert!(check_issuer("https://login.example/t/v2.0").is_ok());
        assert!(check_issuer("http://127.0.0.1:9000").is_ok());
        assert!(check_issuer("http://localhost:9000/realms/lots").is_ok());
        assert!(check_issuer("http://login.example").is_err());
        assert!(check_issuer("not a url").is_err());
    }
}
