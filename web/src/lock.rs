//! Locking and unlocking the device: what a sign-in does with the key, unlocking with the
//! password (counted, with a wipe after [`MAX_FAILED_UNLOCKS`] wrong ones), locking every tab
//! of the app, and how long a device may stay offline and still unlock.
//!
//! Locking does not try to forget the key and what was decrypted in place: dropped values
//! linger in wasm memory and in the JavaScript heap until they happen to be overwritten. It
//! loads the page again, which throws both away; the new page has no key until the person
//! types their password.

use gloo::events::EventListener;
use wasm_bindgen::JsCast as _;

use crate::api::{self, ApiError, Me};
use crate::screens::mark_signed_in;
use crate::session::ME;
use crate::storage::{Storage, StorageError};
use crate::vault::{DataKey, Keyring, MAX_FAILED_UNLOCKS, VaultError, WARN_FROM_FAILED};
use lots_core::api::DeviceLock;

/// The channel every tab of the app listens on for "lock now".
const CHANNEL: &str = "lots-lock";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

thread_local! {
    /// How this device locks: as the server last said (kept in the keyring), or the defaults.
    static POLICY: std::cell::Cell<DeviceLock> = std::cell::Cell::new(DeviceLock::default());
}

/// Minutes without use before this app locks (the phone's or the desk's).
pub fn idle_minutes(at_desk: bool) -> u32 {
    let policy = POLICY.with(std::cell::Cell::get);
    if at_desk {
        policy.desk_idle_minutes
    } else {
        policy.phone_idle_minutes
    }
}

/// Follows the policy a keyring keeps, if it keeps one.
pub fn follow(policy: Option<DeviceLock>) {
    if let Some(policy) = policy {
        POLICY.with(|current| current.set(policy));
    }
}

/// What a sign-in leaves the device with.
#[derive(Debug)]
pub enum Secured {
    /// Unlocked: a storage that seals with the person's key, who they are stored in it.
    Unlocked(Storage),
    /// Signed in through the identity provider on a device without a key: the person chooses
    /// a passphrase for it.
    ChoosePassphrase,
    /// The device's key is wrapped with something other than what was typed (a passphrase
    /// after the identity provider, or a password changed since): unlock with that.
    Locked,
}

/// Why a sign-in could not take the device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecureError {
    /// Storage or WebCrypto failed.
    #[error("{0}")]
    Device(String),
    /// Somebody else's changes wait on this device for the server.
    #[error("another person's changes wait on this device")]
    OtherPersonWaiting,
}

impl SecureError {
    /// The refusal in the person's language.
    pub fn words(&self) -> String {
        match self {
            SecureError::Device(words) => words.clone(),
            SecureError::OtherPersonWaiting => crate::i18n::t("signin-other-person-waiting"),
        }
    }
}

impl From<StorageError> for SecureError {
    fn from(error: StorageError) -> Self {
        SecureError::Device(error.to_string())
    }
}

impl From<VaultError> for SecureError {
    fn from(error: VaultError) -> Self {
        SecureError::Device(error.to_string())
    }
}

/// After the server accepted a sign-in: opens the device's key with the password (`secret`),
/// or makes one. A device is one person's: another person's key, with nothing of theirs
/// waiting for the server, goes with all it sealed; with something waiting, the sign-in is
/// refused (and its session ended), so that it is not lost. A key wrapped with an older
/// password is opened with that; with nothing waiting, the device starts afresh instead.
/// Unlocked or locked, the device is marked as this person's for the start-up script.
pub async fn secure(
    storage: &Storage,
    me: &Me,
    secret: Option<&str>,
    now: i64,
) -> Result<Secured, SecureError> {
    let secured = take_key(storage, me, secret, now).await;
    match &secured {
        Ok(Secured::Unlocked(_) | Secured::Locked) => mark_signed_in(Some(me)),
        Ok(Secured::ChoosePassphrase) => {}
        Err(SecureError::OtherPersonWaiting) => {
            let _ = api::logout().await;
        }
        Err(SecureError::Device(_)) => {}
    }
    secured
}

/// [`secure`]'s decision about the key.
async fn take_key(
    storage: &Storage,
    me: &Me,
    secret: Option<&str>,
    now: i64,
) -> Result<Secured, SecureError> {
    let keyring = match storage.keyring().await? {
        Some(keyring) if keyring.user != me.user.id => {
            if storage.waiting().await? > 0 {
                return Err(SecureError::OtherPersonWaiting);
            }
            storage.clear().await?;
            None
        }
        keyring => keyring,
    };
    let Some(secret) = secret else {
        return Ok(match keyring {
            Some(_) => Secured::Locked,
            None => Secured::ChoosePassphrase,
        });
    };
    if let Some(mut keyring) = keyring {
        match keyring.open(secret).await {
            Ok(key) => {
                keyring.failed = 0;
                keyring.reached_server = now;
                keyring.policy = me.device_lock.or(keyring.policy);
                follow(keyring.policy);
                storage.set_keyring(&keyring).await?;
                let unlocked = storage.unlocked(key);
                unlocked.set_meta(ME, Some(me)).await?;
                return Ok(Secured::Unlocked(unlocked));
            }
            Err(VaultError::WrongSecret) if storage.waiting().await? > 0 => {
                return Ok(Secured::Locked);
            }
            // The server has everything: the device starts afresh under the new password.
            Err(VaultError::WrongSecret) => storage.clear().await?,
            Err(other) => return Err(other.into()),
        }
    }
    create(storage, me, secret, now)
        .await
        .map(Secured::Unlocked)
}

/// A new key for `me` on this device, wrapped with `secret`, and who they are stored with it.
pub async fn create(
    storage: &Storage,
    me: &Me,
    secret: &str,
    now: i64,
) -> Result<Storage, SecureError> {
    let (mut keyring, key) = Keyring::create(&me.user.id, secret, now).await?;
    keyring.policy = me.device_lock;
    follow(keyring.policy);
    storage.set_keyring(&keyring).await?;
    let unlocked = storage.unlocked(key);
    unlocked.set_meta(ME, Some(me)).await?;
    Ok(unlocked)
}

/// Why an unlock did not open the device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnlockError {
    /// The wrong password.
    #[error("wrong password")]
    Wrong {
        /// Tries left before the wipe.
        left: u32,
        /// Households with changes the server does not have, lost with a wipe.
        waiting: u32,
    },
    /// Too many wrong tries: everything of the person is gone from the device.
    #[error("wiped")]
    Wiped,
    /// The device has not reached the server for longer than allowed offline.
    #[error("offline too long")]
    OfflineTooLong {
        /// Days since it last did.
        days: i64,
    },
    /// The passkey did not unlock (cancelled, or refused): the password still does.
    #[error("{0}")]
    Passkey(String),
    /// Storage or WebCrypto failed.
    #[error("{0}")]
    Device(String),
}

impl From<StorageError> for UnlockError {
    fn from(error: StorageError) -> Self {
        UnlockError::Device(error.to_string())
    }
}

/// The User Timing measure of deriving and unwrapping the key at an unlock.
const UNLOCK_KEY_MEASURE: &str = "lots:unlock-key";

/// Whether the tries so far call for a warning: how many remain.
pub fn warn_left(failed: u32) -> Option<u32> {
    (failed >= WARN_FROM_FAILED).then(|| MAX_FAILED_UNLOCKS.saturating_sub(failed))
}

/// The keyring, read afresh (another tab may have counted tries meanwhile), once the device
/// has reached the server recently enough to unlock.
async fn keyring_to_unlock(storage: &Storage, now: i64) -> Result<Keyring, UnlockError> {
    let Some(mut keyring) = storage.keyring().await? else {
        return Err(UnlockError::Wiped);
    };
    follow(keyring.policy);
    let policy = keyring.policy.unwrap_or_default();
    let offline_for = now - keyring.reached_server;
    if offline_for > i64::from(policy.offline_days) * DAY_MS {
        match api::me().await {
            Err(ApiError::Network(_)) => {
                return Err(UnlockError::OfflineTooLong {
                    days: offline_for / DAY_MS,
                });
            }
            // Any answer is the server reached (an ended session is the shell's to handle
            // once the app is open).
            _ => keyring.reached_server = now,
        }
    }
    Ok(keyring)
}

/// Unlocked with `key`: the count reset, data from before sealing sealed, and who is
/// signed in read.
async fn opened(
    storage: &Storage,
    mut keyring: Keyring,
    key: DataKey,
) -> Result<(Storage, Me), UnlockError> {
    keyring.failed = 0;
    storage.set_keyring(&keyring).await?;
    let unlocked = storage.unlocked(key);
    if unlocked.has_legacy().await? {
        unlocked.seal_legacy().await?;
    }
    let me = unlocked
        .meta::<Me>(ME)
        .await?
        .ok_or_else(|| UnlockError::Device("who is signed in is not stored".into()))?;
    Ok((unlocked, me))
}

/// Unlocks with what the person typed. The try is counted before the key is derived, so
/// that closing the page mid-way does not give a free guess; a right one resets the count.
/// The tenth wrong one in a row erases everything of the person on the device and ends the
/// session (at once, or at the next contact). With `add_passkey`, a right password also
/// makes a passkey for the quick unlock (a passkey that fails leaves the unlock as it is).
pub async fn unlock(
    storage: &Storage,
    secret: &str,
    add_passkey: bool,
    now: i64,
) -> Result<(Storage, Me), UnlockError> {
    let mut keyring = keyring_to_unlock(storage, now).await?;
    keyring.failed += 1;
    storage.set_keyring(&keyring).await?;
    // `cargo xtask bench-web` reads the key's derivation and unwrapping on its own.
    let measure = crate::browser::Measure::start(UNLOCK_KEY_MEASURE);
    let key = keyring.open(secret).await;
    measure.finish(UNLOCK_KEY_MEASURE);
    match key {
        Ok(key) => {
            if add_passkey {
                match add_passkey_to(&keyring, secret).await {
                    Ok(with_passkey) => keyring = with_passkey,
                    Err(error) => web_sys::console::warn_1(
                        &format!("the passkey was not added: {error}").into(),
                    ),
                }
            }
            opened(storage, keyring, key).await
        }
        Err(VaultError::WrongSecret) if keyring.failed >= MAX_FAILED_UNLOCKS => {
            leave_device(storage, None).await?;
            Err(UnlockError::Wiped)
        }
        Err(VaultError::WrongSecret) => Err(UnlockError::Wrong {
            left: keyring.unlocks_left(),
            waiting: storage.waiting().await?,
        }),
        Err(other) => Err(UnlockError::Device(other.to_string())),
    }
}

/// A new passkey on this device, and the keyring with the data key wrapped by it too.
async fn add_passkey_to(keyring: &Keyring, secret: &str) -> Result<Keyring, String> {
    let (credential, salt, output) = crate::passkey::enroll("Lots")
        .await
        .map_err(|error| error.to_string())?;
    keyring
        .with_passkey(secret, credential, salt, &output)
        .await
        .map_err(|error| error.to_string())
}

/// Unlocks with the device's passkey. Not a guess at the password, so not counted; a right
/// one resets the count.
pub async fn unlock_with_passkey(
    storage: &Storage,
    now: i64,
) -> Result<(Storage, Me), UnlockError> {
    let keyring = keyring_to_unlock(storage, now).await?;
    let Some(passkey) = &keyring.passkey else {
        return Err(UnlockError::Device("this device has no passkey".into()));
    };
    let output = crate::passkey::evaluate(&passkey.credential, &passkey.salt)
        .await
        .map_err(|error| UnlockError::Passkey(error.to_string()))?;
    let key = keyring
        .open_with_passkey(&output)
        .await
        .map_err(|error| UnlockError::Passkey(error.to_string()))?;
    opened(storage, keyring, key).await
}

/// Everything of the person leaves the device, then the server hears it: a sign-out (and a
/// wipe after too many wrong passwords) ends the session (now, or at the next contact when
/// offline: [`api::logout`]); a device an administrator shut out says it is wiped
/// ([`api::wiped`]). In this order, since the server's answer clears the site's storage under
/// the app's feet; and a device that could not be cleared keeps its session, so that the
/// person can try again. Every other tab of the app starts afresh.
pub async fn leave_device(
    storage: &Storage,
    shut_out: Option<api::ShutOut>,
) -> Result<(), StorageError> {
    storage.clear().await?;
    mark_signed_in(None);
    tell_every_tab();
    let _ = match shut_out {
        None => api::logout().await,
        Some(_) => api::wiped().await,
    };
    Ok(())
}

/// Notes that the server answered, for the offline limit; the server's lock policy with it
/// when it sent one.
pub async fn reached_server(
    storage: &Storage,
    policy: Option<DeviceLock>,
    now: i64,
) -> Result<(), StorageError> {
    follow(policy);
    if let Some(mut keyring) = storage.keyring().await? {
        keyring.reached_server = now;
        if policy.is_some() {
            keyring.policy = policy;
        }
        storage.set_keyring(&keyring).await?;
    }
    Ok(())
}

/// Locks this tab and every other tab of the app: each loads its page again, which drops
/// the key and everything decrypted with it.
pub fn lock_everywhere() {
    tell_every_tab();
    reload();
}

thread_local! {
    /// This tab's end of the channel: a tab does not hear what it posts on its own end.
    static TABS: Option<web_sys::BroadcastChannel> = web_sys::BroadcastChannel::new(CHANNEL).ok();
}

/// Tells every other tab of the app to load its page again (locked, or wiped).
pub fn tell_every_tab() {
    TABS.with(|channel| {
        if let Some(channel) = channel {
            let _ = channel.post_message(&"lock".into());
        }
    });
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// Loads the page again when another tab locks or wipes, while the listener is held.
pub fn follow_other_tabs() -> Option<EventListener> {
    TABS.with(|channel| {
        let channel = channel.as_ref()?;
        Some(EventListener::new(
            channel.unchecked_ref(),
            "message",
            |_| reload(),
        ))
    })
}

/// The key the sign-in left in the page, for the app starting after it.
pub fn handed_over() -> Option<DataKey> {
    DataKey::take_handed_over()
}

/// Where the sign-in leaves who just signed in when it could not open the key with what they
/// typed (the app unlocks first): a property of the page's global object, taken at once.
const SIGNED_IN: &str = "lotsSignedIn";

/// Leaves a sign-in the key could not follow for the app starting next: once unlocked, it
/// takes this one (its device, above all) over the one stored before.
pub fn hand_over_sign_in(me: &Me) {
    if let Ok(json) = serde_json::to_string(me) {
        crate::browser::hand_to_next_app(SIGNED_IN, &json.into());
    }
}

/// The sign-in the sign-in app left ([`hand_over_sign_in`]), if any; gone from the page after.
pub fn handed_over_sign_in() -> Option<Me> {
    let json = crate::browser::take_from_last_app(SIGNED_IN)?.as_string()?;
    serde_json::from_str(&json).ok()
}
