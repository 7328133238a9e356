//! The administrator's console without its screens: what a form asks of the server, the
//! server's refusals in words, the device list in order, and the caseloads overview as a
//! table of counts. Plain functions on plain data, so they are tested natively; the screens
//! (`views/admin*`) only show what these return and send what they build.

use crate::api::{ApiError, Caseloads, Device, DistrictCaseload, Role, User};
use crate::i18n::{t, t_args, t1};

/// The roles an administrator can give, in the order the form offers them.
pub const ROLES: [Role; 3] = [Role::Staff, Role::Supervisor, Role::Admin];

/// The fewest characters the server accepts in a password.
pub use lots_core::api::MIN_PASSWORD_CHARS;

/// Whether a role works in districts (an administrator sees no household, so has none).
pub fn role_has_districts(role: Role) -> bool {
    match role {
        Role::Staff | Role::Supervisor => true,
        Role::Admin => false,
    }
}

/// A refusal from the server, or a failure to reach it, in words for the administrator:
/// the common refusals are named in their language, anything else shows the server's words.
pub fn explain(error: &ApiError) -> String {
    match error {
        ApiError::Network(_) => t("admin-error-offline"),
        ApiError::Unauthorized => t("admin-error-signed-out"),
        ApiError::PasswordChangeRequired => t("admin-error-password-change-required"),
        ApiError::TooManyAttempts(seconds) => t_args(
            "signin-throttled",
            &[("minutes", seconds.div_ceil(60).into())],
        ),
        ApiError::Refused { code, message } => explain_code(code, message)
            .or_else(|| explain_message(message))
            .unwrap_or_else(|| t1("admin-error-other", "error", message.clone())),
        ApiError::Server(message) => explain_message(message)
            .unwrap_or_else(|| t1("admin-error-other", "error", message.clone())),
    }
}

/// The server's codes the console has words for.
fn explain_code(code: &str, message: &str) -> Option<String> {
    let key = match code {
        "username_taken" => "admin-error-username-taken",
        "weak_password" => return Some(weak_password(message)),
        "password_reused" => "password-same",
        "own_role_or_districts" => "admin-error-own-account",
        "own_account" => "admin-error-own-password",
        "wrong_password" => "admin-error-wrong-password",
        "unknown_district" => "admin-error-unknown-district",
        "empty_display_name" => "admin-error-display-name",
        "nothing_to_change" => "admin-error-nothing-to-change",
        "not_due" => "admin-error-not-due",
        "no_household" => "admin-error-no-household",
        "bad_decision" => "admin-error-decision",
        "bad_reason" => "admin-error-reason",
        "bad_documents" => "admin-error-not-due",
        _ => return None,
    };
    Some(t(key))
}

/// The server's messages (`server/src/api.rs`, `auth.rs`, `setup.rs`) the console has words
/// for, for refusals that carry no code.
fn explain_message(message: &str) -> Option<String> {
    let lower = message.to_lowercase();
    let key = if lower.contains("is taken") {
        "admin-error-username-taken"
    } else if lower.contains("password needs at least") || lower.contains("password is too") {
        return Some(weak_password(message));
    } else if lower.contains("a username is") {
        "admin-error-username-invalid"
    } else if lower.contains("your own") || lower.contains("own role") {
        "admin-error-own-account"
    } else if lower.contains("exists already") {
        "admin-error-district-exists"
    } else if lower.contains("there is no district") {
        "admin-error-unknown-district"
    } else if lower.contains("display name") {
        "admin-error-display-name"
    } else if lower.contains("district's name") {
        "admin-error-district-name"
    } else if lower.contains("district id") {
        "admin-error-district-id"
    } else if lower.contains("current password") || lower.contains("wrong password") {
        "admin-error-wrong-password"
    } else if lower.contains("may not do that") {
        "admin-error-forbidden"
    } else if lower.contains("not found") {
        "admin-error-not-found"
    } else {
        return None;
    };
    Some(t(key))
}

/// A password the server found too weak, with the least length it asks for.
fn weak_password(message: &str) -> String {
    let least = message
        .split(|c: char| !c.is_ascii_digit())
        .find_map(|number| number.parse::<usize>().ok())
        .unwrap_or(MIN_PASSWORD_CHARS);
    t_args("admin-error-weak-password", &[("count", least.into())])
}

/// A first password to suggest, from 16 random bytes: four groups of four letters and
/// digits that are hard to mistake for one another when read aloud or typed from paper.
pub fn suggested_password(random: &[u8; 16]) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    random
        .chunks(4)
        .map(|group| {
            group
                .iter()
                .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// What is wrong with a new password chosen in place of a temporary one, in words.
pub fn check_new_password(current: &str, new: &str, repeated: &str) -> Result<(), String> {
    if new.chars().count() < MIN_PASSWORD_CHARS {
        return Err(t_args(
            "admin-error-weak-password",
            &[("count", MIN_PASSWORD_CHARS.into())],
        ));
    }
    if new != repeated {
        return Err(t("password-mismatch"));
    }
    if new == current {
        return Err(t("password-same"));
    }
    Ok(())
}

/// A district id made from its name, as the server wants ids: `district-` and lower-case
/// ASCII letters, digits and '-' ("Östermalm" → `district-ostermalm`).
pub fn district_id(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().to_lowercase().chars() {
        let plain = match c {
            'å' | 'ä' | 'á' | 'à' | 'â' => 'a',
            'ö' | 'ø' | 'ó' | 'ò' | 'ô' => 'o',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'ü' | 'ú' => 'u',
            'í' | 'ï' => 'i',
            c if c.is_ascii_lowercase() || c.is_ascii_digit() => c,
            _ => '-',
        };
        if plain == '-' && (slug.is_empty() || slug.ends_with('-')) {
            continue;
        }
        slug.push(plain);
    }
    let slug = slug.trim_end_matches('-');
    let mut id = format!("district-{slug}");
    id.truncate(64);
    id.trim_end_matches('-').to_owned()
}

/// One device in the console's list, with its owner's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// The device.
    pub device: Device,
    /// Whose, by name (their id when the user list lacks them).
    pub owner: String,
}

/// Every device with its owner's name: devices in use first, the most recently seen first,
/// then revoked ones.
pub fn device_rows(devices: &[Device], people: &[User]) -> Vec<DeviceRow> {
    let mut rows: Vec<DeviceRow> = devices
        .iter()
        .map(|device| DeviceRow {
            owner: people
                .iter()
                .find(|person| person.id == device.user_id)
                .map(|person| person.display_name.clone())
                .unwrap_or_else(|| device.user_id.clone()),
            device: device.clone(),
        })
        .collect();
    rows.sort_by(|a, b| {
        a.device
            .revoked_at
            .is_some()
            .cmp(&b.device.revoked_at.is_some())
            .then(b.device.last_seen_at.cmp(&a.device.last_seen_at))
            .then(a.device.id.cmp(&b.device.id))
    });
    rows
}

/// A short name for a device from the label the browser gave it (its user agent):
/// "Chrome on Android" rather than a hundred characters. A label a person typed is kept.
pub fn device_name(label: &str) -> String {
    if !label.contains("Mozilla/") {
        return label.to_owned();
    }
    let browser = if label.contains("Edg/") {
        "Edge"
    } else if label.contains("Firefox/") {
        "Firefox"
    } else if label.contains("Chrome/") || label.contains("Chromium/") {
        "Chrome"
    } else if label.contains("Safari/") {
        "Safari"
    } else {
        ""
    };
    let system = if label.contains("Android") {
        "Android"
    } else if label.contains("iPhone") {
        "iPhone"
    } else if label.contains("iPad") {
        "iPad"
    } else if label.contains("Windows") {
        "Windows"
    } else if label.contains("Mac OS") {
        "Mac"
    } else if label.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    match (browser, system) {
        ("", "") => label.to_owned(),
        (browser, "") => browser.to_owned(),
        ("", system) => system.to_owned(),
        (browser, system) => t_args(
            "admin-device-browser-on",
            &[("browser", browser.into()), ("system", system.into())],
        ),
    }
}

/// One person's row of the caseloads overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseloadRow {
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Whether they are shut out (households they still hold need another holder).
    pub disabled: bool,
    /// Households they hold in each of [`CaseloadTable::districts`], in that order.
    pub counts: Vec<i64>,
    /// Households they hold in all.
    pub total: i64,
}

/// The caseloads overview as a table: a column per district, a row per person, and the
/// households nobody holds. Counts only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseloadTable {
    /// The districts, as (id, name), by name; households of no known district last.
    pub districts: Vec<(String, String)>,
    /// The people, by name.
    pub rows: Vec<CaseloadRow>,
    /// Households assigned to nobody, per district.
    pub unassigned: Vec<i64>,
    /// Households per district, held or not.
    pub totals: Vec<i64>,
}

/// Builds the overview's table from the server's counts.
pub fn caseload_table(caseloads: &Caseloads) -> CaseloadTable {
    let mut districts: Vec<&DistrictCaseload> = caseloads.districts.iter().collect();
    districts.sort_by(|a, b| {
        a.district
            .is_empty()
            .cmp(&b.district.is_empty())
            .then(a.name.cmp(&b.name))
            .then(a.district.cmp(&b.district))
    });
    let columns: Vec<(String, String)> = districts
        .iter()
        .map(|district| {
            let name = if district.district.is_empty() {
                t("admin-caseloads-no-district")
            } else {
                district.name.clone()
            };
            (district.district.clone(), name)
        })
        .collect();
    let mut rows: Vec<CaseloadRow> = caseloads
        .staff
        .iter()
        .map(|staff| CaseloadRow {
            name: staff.display_name.clone(),
            role: staff.role,
            disabled: staff.disabled,
            counts: columns
                .iter()
                .map(|(id, _)| staff.households_by_district.get(id).copied().unwrap_or(0))
                .collect(),
            total: staff.households,
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    CaseloadTable {
        unassigned: districts
            .iter()
            .map(|district| district.unassigned)
            .collect(),
        totals: districts
            .iter()
            .map(|district| district.households)
            .collect(),
        districts: columns,
        rows,
    }
}

#[cfg(test)]
pub(crate) mod tests;
