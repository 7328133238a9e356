//! The key that seals everything Lots keeps on the device about people.
//!
//! Each person on each device has a random data key (AES-256-GCM). It exists in two forms:
//!
//! - in memory while the app is unlocked, as a WebCrypto key that cannot be exported: its
//!   bytes live in the browser's native code, never in wasm memory or the JavaScript heap;
//! - on the device only wrapped ([`Keyring`]): encrypted with a key derived from the person's
//!   password (or, with the identity provider, a device passphrase) by PBKDF2-SHA-256 with
//!   [`ITERATIONS`] rounds and a random salt.
//!
//! Locking reloads the page, which drops the key with everything decrypted; unlocking derives
//! the wrapping key again from what the person types. A wrong password fails to unwrap (AES-GCM
//! authenticates the wrapped key), and [`Keyring::failed`] counts the tries.
//!
//! Written against WebCrypto rather than with a Rust AES crate: the browser's implementation
//! is native, constant-time, adds nothing to the wasm, and is the only one that can hold a key
//! that even the page's own code cannot read back.

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// PBKDF2-SHA-256 rounds for the wrapping key: OWASP's figure for 2023 onwards. WebCrypto
/// runs them natively (about 0.3 s on this project's test machine).
pub const ITERATIONS: u32 = 600_000;
/// The fewest characters of a passphrase or password that unlocks a device: the server's
/// rule for passwords ([`lots_core::api::MIN_PASSWORD_CHARS`]).
pub const MIN_SECRET_CHARS: usize = lots_core::api::MIN_PASSWORD_CHARS;
/// After this many wrong unlocks in a row the device erases everything of the person.
pub const MAX_FAILED_UNLOCKS: u32 = 10;
/// From this many wrong unlocks on, the unlock form says how many remain.
pub const WARN_FROM_FAILED: u32 = 5;

const AES_GCM: &str = "AES-GCM";
const IV_BYTES: u32 = 12;
/// AES-GCM's tag: the shortest sealed value is an IV and a tag.
const TAG_BYTES: u32 = 16;
const SALT_BYTES: usize = 16;
/// Where the sign-in hands the key to the app that starts after it (the two are separate
/// wasm modules in one page): a property of the page's global object, taken and deleted at
/// once by the app.
const HANDED_OVER: &str = "lotsDataKey";

/// What went wrong with the device's key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The browser has no WebCrypto (a page not served over HTTPS or from localhost).
    #[error("this browser cannot encrypt what Lots keeps on the device: {0}")]
    Unavailable(String),
    /// The password or passphrase does not unwrap the key.
    #[error("the password does not unlock this device")]
    WrongSecret,
    /// Encrypting failed.
    #[error("encrypting on the device failed: {0}")]
    Failed(String),
    /// A stored value that does not decrypt with this key: damaged, or not Lots' own.
    #[error("data stored on the device does not decrypt: {0}")]
    Damaged(String),
}

/// The data key, wrapped, with what unlocking needs: kept unencrypted on the device, since
/// it is read before anything can be decrypted. It names no person: `user` is an opaque id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyring {
    /// The account whose data the key seals.
    pub user: String,
    /// PBKDF2's salt.
    pub salt: Vec<u8>,
    /// PBKDF2's rounds when the key was wrapped.
    pub iterations: u32,
    /// AES-GCM's nonce for the wrapped key.
    pub iv: Vec<u8>,
    /// The data key, encrypted with the wrapping key.
    pub wrapped: Vec<u8>,
    /// Wrong unlocks since the last right one.
    #[serde(default)]
    pub failed: u32,
    /// When the device last heard from the server (ms since the epoch).
    #[serde(default)]
    pub reached_server: i64,
    /// How the device locks, as the server last said; `None` until it has.
    #[serde(default)]
    pub policy: Option<lots_core::api::DeviceLock>,
    /// The data key wrapped a second time, by a passkey's PRF output, for a quick unlock.
    #[serde(default)]
    pub passkey: Option<PasskeyWrap>,
}

/// The data key as a passkey unwraps it: the credential, the PRF input it is asked with, and
/// the key wrapped by what the PRF answers (through HKDF-SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyWrap {
    /// The credential's id.
    pub credential: Vec<u8>,
    /// The PRF input (random, 32 bytes).
    pub salt: Vec<u8>,
    /// AES-GCM's nonce for the wrapped key.
    pub iv: Vec<u8>,
    /// The data key, encrypted with the key derived from the PRF output.
    pub wrapped: Vec<u8>,
}

/// The data key while the app is unlocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKey(CryptoKey);

fn subtle() -> Result<SubtleCrypto, VaultError> {
    let window = web_sys::window().ok_or_else(|| VaultError::Unavailable("no window".into()))?;
    let crypto = window
        .crypto()
        .map_err(|error| VaultError::Unavailable(describe(&error)))?;
    Ok(crypto.subtle())
}

fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// A plain object from name–value pairs (WebCrypto's algorithm parameters).
fn object(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in fields {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object
}

fn usages(names: &[&str]) -> JsValue {
    names
        .iter()
        .map(|name| JsValue::from_str(name))
        .collect::<Array>()
        .into()
}

fn random<const N: usize>() -> Result<[u8; N], VaultError> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).map_err(|error| VaultError::Unavailable(error.to_string()))?;
    Ok(bytes)
}

async fn run(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

fn gcm(iv: &[u8], context: Option<&str>) -> Object {
    let mut fields = vec![
        ("name", JsValue::from_str(AES_GCM)),
        ("iv", Uint8Array::from(iv).into()),
    ];
    if let Some(context) = context {
        fields.push((
            "additionalData",
            Uint8Array::from(context.as_bytes()).into(),
        ));
    }
    object(&fields)
}

/// An AES-GCM key that wraps and unwraps, derived by `params` (PBKDF2 or HKDF, named in
/// them) from the key material `material`.
async fn derived_wrapping_key(material: &[u8], params: Object) -> Result<CryptoKey, VaultError> {
    let subtle = subtle()?;
    let failed = |error: JsValue| VaultError::Failed(describe(&error));
    let algorithm = Reflect::get(&params, &"name".into())
        .ok()
        .and_then(|name| name.as_string())
        .unwrap_or_default();
    let base = run(subtle.import_key_with_str(
        "raw",
        &Uint8Array::from(material),
        &algorithm,
        false,
        &usages(&["deriveKey"]),
    ))
    .await
    .map_err(failed)?;
    let target = object(&[("name", AES_GCM.into()), ("length", 256.into())]);
    run(subtle.derive_key_with_object_and_object(
        &params,
        &base.unchecked_into(),
        &target,
        false,
        &usages(&["wrapKey", "unwrapKey"]),
    ))
    .await
    .map(JsCast::unchecked_into)
    .map_err(failed)
}

/// The key that wraps the data key, derived from what the person types.
async fn wrapping_key(secret: &str, salt: &[u8], iterations: u32) -> Result<CryptoKey, VaultError> {
    let params = object(&[
        ("name", "PBKDF2".into()),
        ("hash", "SHA-256".into()),
        ("salt", Uint8Array::from(salt).into()),
        ("iterations", iterations.into()),
    ]);
    derived_wrapping_key(secret.as_bytes(), params).await
}

/// `wrapped` (a raw AES key under nonce `iv`) unwrapped by `wrapping`: extractable only to
/// be wrapped again; otherwise nothing on the page can read the key's bytes back. AES-GCM
/// authenticates, so a wrong wrapping key fails here rather than giving a wrong key.
async fn unwrap_with(
    wrapped: &[u8],
    iv: &[u8],
    wrapping: &CryptoKey,
    extractable: bool,
) -> Result<CryptoKey, VaultError> {
    Ok(
        run(subtle()?.unwrap_key_with_u8_array_and_object_and_object(
            "raw",
            wrapped,
            wrapping,
            &gcm(iv, None),
            &object(&[("name", AES_GCM.into())]),
            extractable,
            &usages(&["encrypt", "decrypt"]),
        ))
        .await
        .map_err(|_| VaultError::WrongSecret)?
        .unchecked_into(),
    )
}

async fn unwrap(keyring: &Keyring, wrapping: &CryptoKey) -> Result<DataKey, VaultError> {
    unwrap_with(&keyring.wrapped, &keyring.iv, wrapping, false)
        .await
        .map(DataKey)
}

/// `key` wrapped (raw, AES-GCM) by `wrapping` under nonce `iv`.
async fn wrap(key: &CryptoKey, wrapping: &CryptoKey, iv: &[u8]) -> Result<Vec<u8>, VaultError> {
    let wrapped = run(subtle()?.wrap_key_with_object("raw", key, wrapping, &gcm(iv, None)))
        .await
        .map_err(|error| VaultError::Failed(describe(&error)))?;
    Ok(Uint8Array::new(&wrapped).to_vec())
}

/// The key that wraps the data key for a passkey: HKDF-SHA-256 of its PRF output.
async fn prf_wrapping_key(output: &[u8]) -> Result<CryptoKey, VaultError> {
    let params = object(&[
        ("name", "HKDF".into()),
        ("hash", "SHA-256".into()),
        ("salt", Uint8Array::new_with_length(0).into()),
        ("info", Uint8Array::from(&b"lots device key"[..]).into()),
    ]);
    derived_wrapping_key(output, params).await
}

impl Keyring {
    /// A new random data key for `user`, wrapped with `secret`: the keyring to store, and the
    /// key to work with.
    pub async fn create(user: &str, secret: &str, now: i64) -> Result<(Self, DataKey), VaultError> {
        let subtle = subtle()?;
        let failed = |error: JsValue| VaultError::Failed(describe(&error));
        // Extractable only so that it can be wrapped; the copy used from here on is the
        // unwrapped one, which is not.
        let fresh: CryptoKey = run(subtle.generate_key_with_object(
            &object(&[("name", AES_GCM.into()), ("length", 256.into())]),
            true,
            &usages(&["encrypt", "decrypt"]),
        ))
        .await
        .map_err(failed)?
        .unchecked_into();
        let salt = random::<SALT_BYTES>()?.to_vec();
        let iv = random::<{ IV_BYTES as usize }>()?.to_vec();
        let wrapping = wrapping_key(secret, &salt, ITERATIONS).await?;
        let wrapped = wrap(&fresh, &wrapping, &iv).await?;
        let keyring = Keyring {
            user: user.to_owned(),
            salt,
            iterations: ITERATIONS,
            iv,
            wrapped,
            failed: 0,
            reached_server: now,
            policy: None,
            passkey: None,
        };
        let key = unwrap(&keyring, &wrapping).await?;
        Ok((keyring, key))
    }

    /// The data key, if `secret` is the one it was wrapped with.
    pub async fn open(&self, secret: &str) -> Result<DataKey, VaultError> {
        let wrapping = wrapping_key(secret, &self.salt, self.iterations).await?;
        unwrap(self, &wrapping).await
    }

    /// The data key, extractable, unwrapped with `secret`: only to be wrapped again.
    async fn unwrap_extractable(&self, secret: &str) -> Result<CryptoKey, VaultError> {
        let wrapping = wrapping_key(secret, &self.salt, self.iterations).await?;
        unwrap_with(&self.wrapped, &self.iv, &wrapping, true).await
    }

    /// The same data key wrapped with `new` instead of `old` (a new password chosen): the
    /// key is unwrapped once, extractable, only to be wrapped again. A passkey's wrap stays.
    pub async fn rewrap(&self, old: &str, new: &str) -> Result<Self, VaultError> {
        let key = self.unwrap_extractable(old).await?;
        let salt = random::<SALT_BYTES>()?.to_vec();
        let iv = random::<{ IV_BYTES as usize }>()?.to_vec();
        let wrapping = wrapping_key(new, &salt, ITERATIONS).await?;
        Ok(Keyring {
            salt,
            iterations: ITERATIONS,
            iv: iv.clone(),
            wrapped: wrap(&key, &wrapping, &iv).await?,
            failed: 0,
            ..self.clone()
        })
    }

    /// The data key wrapped a second time by a passkey's PRF `output` (asked with `salt`),
    /// which `secret` proves the person may do.
    pub async fn with_passkey(
        &self,
        secret: &str,
        credential: Vec<u8>,
        salt: Vec<u8>,
        output: &[u8],
    ) -> Result<Self, VaultError> {
        let key = self.unwrap_extractable(secret).await?;
        let iv = random::<{ IV_BYTES as usize }>()?.to_vec();
        let wrapped = wrap(&key, &prf_wrapping_key(output).await?, &iv).await?;
        Ok(Keyring {
            passkey: Some(PasskeyWrap {
                credential,
                salt,
                iv,
                wrapped,
            }),
            ..self.clone()
        })
    }

    /// The data key, unwrapped by the passkey's PRF `output`.
    pub async fn open_with_passkey(&self, output: &[u8]) -> Result<DataKey, VaultError> {
        let passkey = self.passkey.as_ref().ok_or(VaultError::WrongSecret)?;
        let wrapping = prf_wrapping_key(output).await?;
        unwrap_with(&passkey.wrapped, &passkey.iv, &wrapping, false)
            .await
            .map(DataKey)
    }

    /// Wrong unlocks left before the device erases itself.
    pub fn unlocks_left(&self) -> u32 {
        MAX_FAILED_UNLOCKS.saturating_sub(self.failed)
    }
}

impl DataKey {
    /// Encrypts each `(context, plain)`, bound to its context (the store and key it is
    /// written under, so that a sealed value moved to another record does not decrypt): the
    /// nonce, then the ciphertext with its tag. All at once: WebCrypto works on them in
    /// parallel, and the page waits on one promise (`Promise.all`) rather than on a Rust
    /// future per value, which would also cost the wasm a combinator per caller.
    pub async fn seal_all(&self, items: &[(String, &[u8])]) -> Result<Vec<Uint8Array>, VaultError> {
        let subtle = subtle()?;
        let failed = |error: JsValue| VaultError::Failed(describe(&error));
        let mut nonces = Vec::with_capacity(items.len());
        let promises = Array::new();
        for (context, plain) in items {
            let iv = random::<{ IV_BYTES as usize }>()?;
            let promise = subtle
                .encrypt_with_object_and_u8_array(&gcm(&iv, Some(context)), &self.0, plain)
                .map_err(failed)?;
            promises.push(&promise);
            nonces.push(iv);
        }
        let sealed = run(Ok(js_sys::Promise::all(&promises)))
            .await
            .map_err(failed)?;
        Ok(nonces
            .iter()
            .zip(Array::from(&sealed).iter())
            .map(|(iv, body)| {
                let body = Uint8Array::new(&body);
                let out = Uint8Array::new_with_length(IV_BYTES + body.length());
                out.set(&Uint8Array::from(&iv[..]), 0);
                out.set(&body, IV_BYTES);
                out
            })
            .collect())
    }

    /// Decrypts each `(context, sealed)` that [`Self::seal_all`] made, all at once; each
    /// answer on its own, since one damaged value must not hide the others.
    pub async fn open_all(
        &self,
        items: &[(String, JsValue)],
    ) -> Result<Vec<Result<Vec<u8>, VaultError>>, VaultError> {
        let subtle = subtle()?;
        let promises = Array::new();
        for (context, sealed) in items {
            let sealed = sealed
                .dyn_ref::<Uint8Array>()
                .filter(|sealed| sealed.length() >= IV_BYTES + TAG_BYTES);
            let promise = sealed.map_or_else(
                || Err(JsValue::from_str("not sealed")),
                |sealed| {
                    subtle.decrypt_with_object_and_js_u8_array(
                        &gcm(&sealed.subarray(0, IV_BYTES).to_vec(), Some(context)),
                        &self.0,
                        &sealed.subarray(IV_BYTES, sealed.length()),
                    )
                },
            );
            promises.push(&promise.unwrap_or_else(|error| js_sys::Promise::reject(&error)));
        }
        let settled = run(Ok(js_sys::Promise::all_settled(&promises)))
            .await
            .map_err(|error| VaultError::Failed(describe(&error)))?;
        let field =
            |outcome: &JsValue, name: &str| Reflect::get(outcome, &name.into()).unwrap_or_default();
        Ok(items
            .iter()
            .zip(Array::from(&settled).iter())
            .map(|((context, _), outcome)| {
                if field(&outcome, "status").as_string().as_deref() == Some("fulfilled") {
                    Ok(Uint8Array::new(&field(&outcome, "value")).to_vec())
                } else {
                    Err(VaultError::Damaged(context.clone()))
                }
            })
            .collect())
    }

    /// Encrypts one value ([`Self::seal_all`]).
    pub async fn seal(&self, context: &str, plain: &[u8]) -> Result<Uint8Array, VaultError> {
        self.seal_all(&[(context.to_owned(), plain)])
            .await?
            .pop()
            .ok_or_else(|| VaultError::Failed("nothing was sealed".into()))
    }

    /// Decrypts one value ([`Self::open_all`]).
    pub async fn open(&self, context: &str, sealed: &Uint8Array) -> Result<Vec<u8>, VaultError> {
        self.open_all(&[(context.to_owned(), sealed.clone().into())])
            .await?
            .pop()
            .unwrap_or_else(|| Err(VaultError::Damaged(context.to_owned())))
    }

    /// Leaves the key for the app that starts next in this page ([`Self::take_handed_over`]).
    pub fn hand_over(&self) {
        crate::browser::hand_to_next_app(HANDED_OVER, &self.0);
    }

    /// The key the sign-in left, if any; it is gone from the page's global object afterwards.
    pub fn take_handed_over() -> Option<DataKey> {
        crate::browser::take_from_last_app(HANDED_OVER)?
            .dyn_into::<CryptoKey>()
            .ok()
            .map(DataKey)
    }
}

/// Whether `secret` may protect a device: long enough, and not one character over and over
/// (a thief who copies the stores can guess offline, where no counter of wrong tries runs).
pub fn check_secret(secret: &str) -> Result<(), SecretProblem> {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < MIN_SECRET_CHARS {
        return Err(SecretProblem::TooShort);
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Err(SecretProblem::TooSimple);
    }
    Ok(())
}

/// Why a passphrase cannot protect the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretProblem {
    /// Fewer than [`MIN_SECRET_CHARS`] characters.
    TooShort,
    /// Fewer than five different characters.
    TooSimple,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_is_long_and_varied() {
        assert_eq!(check_secret("kort"), Err(SecretProblem::TooShort));
        assert_eq!(
            check_secret("aaaaaaaaaaaaaaaa"),
            Err(SecretProblem::TooSimple)
        );
        assert_eq!(
            check_secret("abababababababab"),
            Err(SecretProblem::TooSimple)
        );
        assert_eq!(check_secret("fyra ord på rad"), Ok(()));
    }
}
