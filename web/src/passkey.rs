//! A quick unlock with a passkey: the device's own screen lock (fingerprint, face, its PIN)
//! through WebAuthn's PRF extension, which answers a fixed input with 32 secret bytes only
//! after the authenticator verified the person. Those bytes wrap the data key a second time
//! ([`crate::vault::Keyring::with_passkey`]); the password still unlocks as well.
//!
//! The credential is used for nothing else: no server sees it, so there is no challenge to
//! check (a random one is sent because WebAuthn requires one). Written against the browser's
//! API with `js_sys`, since `web-sys` has no bindings for the PRF extension's fields.

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What went wrong with the passkey.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    /// The browser or the device offers no passkey with PRF.
    #[error("this device offers no passkey that can unlock Lots")]
    Unsupported,
    /// The person cancelled, or the authenticator refused.
    #[error("the passkey did not answer: {0}")]
    Refused(String),
}

fn set(object: &Object, name: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in fields {
        set(&object, name, value);
    }
    object
}

fn random_bytes(count: u32) -> Uint8Array {
    let mut bytes = vec![0; count as usize];
    // A browser without `crypto.getRandomValues` cannot run the app at all (see `browser.rs`).
    let _ = getrandom::fill(&mut bytes);
    Uint8Array::from(bytes.as_slice())
}

/// `navigator.credentials`, where the browser has passkeys.
fn credentials() -> Result<JsValue, PasskeyError> {
    let window = web_sys::window().ok_or(PasskeyError::Unsupported)?;
    if !Reflect::has(&window, &"PublicKeyCredential".into()).unwrap_or(false) {
        return Err(PasskeyError::Unsupported);
    }
    Reflect::get(&window.navigator(), &"credentials".into()).map_err(|_| PasskeyError::Unsupported)
}

/// Calls `navigator.credentials[method](options)`.
fn call(container: &JsValue, method: &str, options: &Object) -> Result<js_sys::Promise, JsValue> {
    let function: Function = Reflect::get(container, &method.into())?.dyn_into()?;
    function.call1(container, options)?.dyn_into()
}

/// Whether the browser offers passkeys at all (the authenticator may still lack PRF).
pub fn supported() -> bool {
    credentials().is_ok()
}

/// The PRF's first output from a credential's extension results.
fn prf_output(credential: &JsValue) -> Option<Vec<u8>> {
    let results: Function = Reflect::get(credential, &"getClientExtensionResults".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let results = results.call0(credential).ok()?;
    let first = Reflect::get(&results, &"prf".into())
        .and_then(|prf| Reflect::get(&prf, &"results".into()))
        .and_then(|results| Reflect::get(&results, &"first".into()))
        .ok()?;
    if first.is_undefined() {
        return None;
    }
    Some(Uint8Array::new(&first).to_vec())
}

fn prf_extension(salt: &Uint8Array) -> Object {
    object(&[(
        "prf",
        object(&[("eval", object(&[("first", salt.into())]).into())]).into(),
    )])
}

async fn ask(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, PasskeyError> {
    let promise = promise.map_err(|error| PasskeyError::Refused(format!("{error:?}")))?;
    JsFuture::from(promise).await.map_err(|error| {
        PasskeyError::Refused(
            error
                .dyn_ref::<js_sys::Error>()
                .map_or_else(|| format!("{error:?}"), |error| error.message().into()),
        )
    })
}

/// Asks the passkey `credential` for its PRF output for `salt`.
pub async fn evaluate(credential: &[u8], salt: &[u8]) -> Result<Vec<u8>, PasskeyError> {
    let container = credentials()?;
    let allowed = object(&[
        ("type", "public-key".into()),
        ("id", Uint8Array::from(credential).into()),
    ]);
    let public_key = object(&[
        ("challenge", random_bytes(32).into()),
        ("allowCredentials", Array::of1(&allowed).into()),
        ("userVerification", "required".into()),
        ("extensions", prf_extension(&Uint8Array::from(salt)).into()),
    ]);
    let options = object(&[("publicKey", public_key.into())]);
    let answer = ask(call(&container, "get", &options)).await?;
    prf_output(&answer).ok_or(PasskeyError::Unsupported)
}

/// Makes a passkey for this device, named for `who`: its id, the PRF input chosen, and the
/// PRF's output for it.
pub async fn enroll(who: &str) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>), PasskeyError> {
    let container = credentials()?;
    let salt = random_bytes(32);
    let hostname = web_sys::window()
        .and_then(|window| window.location().hostname().ok())
        .unwrap_or_default();
    let public_key = object(&[
        (
            "rp",
            object(&[("name", "Lots".into()), ("id", hostname.into())]).into(),
        ),
        (
            "user",
            object(&[
                ("id", random_bytes(16).into()),
                ("name", who.into()),
                ("displayName", who.into()),
            ])
            .into(),
        ),
        ("challenge", random_bytes(32).into()),
        (
            "pubKeyCredParams",
            Array::of2(
                &object(&[("type", "public-key".into()), ("alg", (-7).into())]),
                &object(&[("type", "public-key".into()), ("alg", (-257).into())]),
            )
            .into(),
        ),
        (
            "authenticatorSelection",
            object(&[("userVerification", "required".into())]).into(),
        ),
        ("extensions", prf_extension(&salt).into()),
    ]);
    let options = object(&[("publicKey", public_key.into())]);
    let created = ask(call(&container, "create", &options)).await?;
    let id = Reflect::get(&created, &"rawId".into())
        .map(|raw| Uint8Array::new(&raw).to_vec())
        .map_err(|_| PasskeyError::Unsupported)?;
    let salt = salt.to_vec();
    // Some authenticators answer the PRF when the passkey is made; others only when used.
    let output = match prf_output(&created) {
        Some(output) => output,
        None => evaluate(&id, &salt).await?,
    };
    Ok((id, salt, output))
}
