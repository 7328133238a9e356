//! Synthetic demo data for `cargo xtask run`: two districts, staff with caseloads, a
//! supervisor and an administrator, and two years of households from core's generator.
//! Created once, on the first start with no users; never real data.

use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{DeviceId, DistrictId, DocumentId, StaffId};

use crate::auth::hash_password;
use crate::store::{Role, Store, User};
use crate::sync::hub::{HubHandle, now};

/// A demo login, printed at first start.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// Username.
    pub username: &'static str,
    /// Password.
    pub password: &'static str,
    /// What the user is.
    pub description: &'static str,
}

/// The demo logins. The passwords are public: demo data only.
pub const DEMO_LOGINS: &[DemoLogin] = &[
    DemoLogin {
        username: "anna",
        password: "demo-anna-2026",
        description: "boendestödjare, Norrmalm",
    },
    DemoLogin {
        username: "omar",
        password: "demo-omar-2026",
        description: "boendestödjare, Kungsholmen",
    },
    DemoLogin {
        username: "sara",
        password: "demo-sara-2026",
        description: "enhetschef, both districts",
    },
    DemoLogin {
        username: "admin",
        password: "demo-admin-2026",
        description: "administrator",
    },
];

/// How much demo data to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    /// Households in each field worker's caseload.
    pub households_per_staff: usize,
    /// Every household gets exactly this many weekly visits; by default each has had a
    /// visit a week or so since its case opened, within the last two years.
    pub visits: Option<usize>,
}

impl DemoSize {
    /// `households_per_staff` households each, visited since their cases opened.
    pub fn households(households_per_staff: usize) -> Self {
        Self {
            households_per_staff,
            visits: None,
        }
    }
}

/// Creates the demo data if the database has no users; returns whether it did.
pub async fn seed_if_empty(store: &Store, hub: &HubHandle, size: DemoSize) -> anyhow::Result<bool> {
    let households_per_staff = size.households_per_staff;
    if store.has_users().await? {
        return Ok(false);
    }
    let now = now();
    store.add_district("district-norrmalm", "Norrmalm").await?;
    store
        .add_district("district-kungsholmen", "Kungsholmen")
        .await?;
    let people = [
        ("anna", "Anna Lind", Role::Staff, vec!["district-norrmalm"]),
        (
            "omar",
            "Omar Said",
            Role::Staff,
            vec!["district-kungsholmen"],
        ),
        (
            "sara",
            "Sara Berg",
            Role::Supervisor,
            vec!["district-norrmalm", "district-kungsholmen"],
        ),
        ("admin", "Admin Lots", Role::Admin, vec![]),
    ];
    for (username, display_name, role, districts) in people {
        let password = DEMO_LOGINS
            .iter()
            .find(|login| login.username == username)
            .map(|login| login.password)
            .unwrap_or("");
        let user = User {
            id: format!("u-{username}"),
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            role,
            districts: districts.into_iter().map(str::to_owned).collect(),
            disabled: false,
        };
        store
            .add_user(&user, &hash_password(password)?, now)
            .await?;
    }
    // The hub read the (then empty) users when it started: who may hold a household is
    // checked against them.
    hub.users_changed();
    let mut generator = Generator::new(2026);
    let today = now.date();
    for (staff, district) in [
        ("u-anna", "district-norrmalm"),
        ("u-omar", "district-kungsholmen"),
    ] {
        for index in 0..households_per_staff {
            // Cases opened over the last two years, visited weekly or fortnightly since; or,
            // for a fixed number of visits, opened long enough ago to hold them.
            let opened_on = match size.visits {
                Some(visits) => today.plus_days(-30 - 7 * visits as i64),
                None => {
                    today.plus_days(-30 - (index as i64 * 700 / households_per_staff.max(1) as i64))
                }
            };
            let weeks = (opened_on.days_until(today) / 7).max(1) as usize;
            let spec = HouseholdSpec {
                district: DistrictId::new(district)?,
                staff: StaffId::new(staff)?,
                device: DeviceId::new("d-demo")?,
                opened_on,
                visits: size.visits.unwrap_or((weeks + 4).min(120)),
                today,
            };
            let doc = generator.household(&spec)?;
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&generator.random_u64().to_le_bytes());
            id[8..].copy_from_slice(&generator.random_u64().to_le_bytes());
            hub.insert(DocumentId::from_bytes(id), doc.into_automerge())
                .await?;
        }
    }
    Ok(true)
}
