//! The data map for the municipality's impact assessment (DPIA): every personal field a
//! household holds, what kind of data it is, and every place Lots keeps personal data, for how
//! long and who reads it there.
//!
//! The household fields are checked against the schema itself: a test walks a synthetic
//! household as it serialises and fails on a field this map does not describe, or an entry
//! that names no field. `cargo xtask data-map` writes `docs/data-map.md` from it, and a test
//! fails when that file is out of date.

/// What kind of personal data a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Says who a person is, or where they live.
    Identifying,
    /// Sensitive: free text about a person's situation, or what may reveal ethnic origin or
    /// legal status (special categories, GDPR art. 9; secrecy, OSL 26 kap.).
    Sensitive,
    /// The case's administration: dates, statuses, who works it.
    Case,
}

impl Kind {
    /// In words, for the map.
    pub fn words(self) -> &'static str {
        match self {
            Kind::Identifying => "identifying",
            Kind::Sensitive => "sensitive",
            Kind::Case => "case administration",
        }
    }
}

/// One field of a household document. `path` is its place in the household as it
/// serialises, `*` standing for any key of a map (a member, visit, goal …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Where, such as `members.*.name`.
    pub path: &'static str,
    /// What it holds.
    pub what: &'static str,
    /// What kind of data.
    pub kind: Kind,
}

const fn field(path: &'static str, what: &'static str, kind: Kind) -> Field {
    Field { path, what, kind }
}

use Kind::{Case, Identifying, Sensitive};

/// Every field of a household document.
pub const HOUSEHOLD_FIELDS: &[Field] = &[
    field(
        "profile.district",
        "the district the household lives in",
        Case,
    ),
    field("profile.address", "street address", Identifying),
    field("profile.unit", "flat or room", Identifying),
    field(
        "profile.housing_form",
        "the form of transitional housing",
        Case,
    ),
    field(
        "profile.arrival_route",
        "how the household came (quota refugee, own housing …)",
        Sensitive,
    ),
    field(
        "profile.arrived_on",
        "when it arrived in the municipality",
        Case,
    ),
    field("profile.opened_on", "when support began", Case),
    field(
        "profile.assigned_staff",
        "the staff member whose caseload it is in",
        Case,
    ),
    field("profile.status", "active or closed", Case),
    field("profile.close_reason", "why the case was closed", Case),
    field("profile.closed_on", "when the case was closed", Case),
    field("members.*.name", "full name", Identifying),
    field("members.*.birth_date", "date of birth", Identifying),
    field("members.*.gender", "gender", Case),
    field(
        "members.*.residence_permit_on",
        "when the residence permit was granted",
        Sensitive,
    ),
    field(
        "members.*.born_outside_eea",
        "born outside the EU/EEA",
        Sensitive,
    ),
    field(
        "members.*.registered_in_district",
        "registered in the district",
        Case,
    ),
    field("members.*.languages", "languages spoken", Sensitive),
    field(
        "members.*.interpreter_language",
        "the language an interpreter is needed for",
        Sensitive,
    ),
    field("visits.*.planned_at", "when the visit is or was", Case),
    field("visits.*.staff", "who makes the visit", Case),
    field("visits.*.status", "planned, done, cancelled, no-show", Case),
    field("visits.*.present", "the members present", Case),
    field(
        "visits.*.interpreter_language",
        "the interpreter's language",
        Sensitive,
    ),
    field(
        "visits.*.interpreter_mode",
        "interpreter in the room or on the phone",
        Case,
    ),
    field(
        "visits.*.duration_minutes",
        "how long the visit lasted",
        Case,
    ),
    field(
        "visits.*.topics",
        "what the visit dealt with (housing, health, school …)",
        Sensitive,
    ),
    field("visits.*.notes", "the visit's notes (free text)", Sensitive),
    field(
        "visits.*.follow_ups.*.description",
        "what is to be done (free text)",
        Sensitive,
    ),
    field(
        "visits.*.follow_ups.*.owner_kind",
        "who does it: staff, the household, an agency",
        Case,
    ),
    field(
        "visits.*.follow_ups.*.owner",
        "the person who does it",
        Case,
    ),
    field(
        "visits.*.follow_ups.*.agency",
        "the agency that does it",
        Case,
    ),
    field("visits.*.follow_ups.*.due_on", "by when", Case),
    field("visits.*.follow_ups.*.done_on", "when it was done", Case),
    field(
        "plan.notes",
        "the individual plan's notes (free text)",
        Sensitive,
    ),
    field("plan.goals.*.member", "whose goal", Case),
    field(
        "plan.goals.*.area",
        "the plan area (work, language, health …)",
        Sensitive,
    ),
    field(
        "plan.goals.*.description",
        "the goal (free text)",
        Sensitive,
    ),
    field("plan.goals.*.status", "the goal's status", Case),
    field("plan.goals.*.set_on", "when it was set", Case),
    field("plan.goals.*.reached_on", "when it was reached", Case),
    field(
        "plan.goals.*.steps.*.description",
        "a step towards the goal (free text)",
        Sensitive,
    ),
    field(
        "plan.goals.*.steps.*.owner_kind",
        "who takes the step",
        Case,
    ),
    field(
        "plan.goals.*.steps.*.owner",
        "the person who takes it",
        Case,
    ),
    field(
        "plan.goals.*.steps.*.agency",
        "the agency that takes it",
        Case,
    ),
    field("plan.goals.*.steps.*.due_on", "by when", Case),
    field("plan.goals.*.steps.*.status", "the step's status", Case),
    field("plan.goals.*.steps.*.done_on", "when it was taken", Case),
    field(
        "plan.goals.*.steps.*.position",
        "its place in the goal's list",
        Case,
    ),
];

/// One place Lots keeps personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Where.
    pub place: &'static str,
    /// What of it.
    pub holds: &'static str,
    /// For how long.
    pub kept: &'static str,
    /// Who reads it there.
    pub read_by: &'static str,
}

/// Every place personal data is kept.
pub const PLACES: &[Place] = &[
    Place {
        place: "Server database: household documents",
        holds: "every household field above, and each change's author, device and time",
        kept: "until gallring (by default 5 years after the last entry, by the server's clock; households with a member born on the 5th, 15th or 25th kept) or removal on a decision",
        read_by: "the staff member the household is assigned to; the supervisors of its district; administrators none",
    },
    Place {
        place: "Server database: quarantine",
        holds: "refused changes to a household (household content), with who sent them",
        kept: "until a supervisor decides; deleted with the household at gallring or removal",
        read_by: "the supervisors of the household's district",
    },
    Place {
        place: "Server database: access log",
        holds: "ids of users, devices and households; what was done and when (the server's time and a device's); never household content",
        kept: "kept whole: append-only and hash-chained, its rows outlive a removed household",
        read_by: "supervisors the rows of their districts; administrators the rows about no household",
    },
    Place {
        place: "Server database: users, devices, sessions, identities",
        holds: "username, display name, password hash (Argon2), role, districts, the identity provider's subject; device labels (the browser's name for itself), sign-in times; session token hashes",
        kept: "accounts and devices while they exist (disabled, not deleted, so that the log can name them); sessions until they end (idle or lifetime)",
        read_by: "administrators; supervisors see names to assign households",
    },
    Place {
        place: "Server database: log reviews, removed households",
        holds: "a reviewer's comment on a period of the log; a removed household's id, district, staff id, dates, decision and reason",
        kept: "kept",
        read_by: "the supervisors of the district; a removal's reason also administrators; staff see only that a household of theirs was removed",
    },
    Place {
        place: "Server database: filed tertial reports",
        holds: "aggregates only: counts by gender and age band, language, topic and goal-area codes; who filed it and when; no person and no household id",
        kept: "kept as filed: gallring and removals do not change them",
        read_by: "the supervisors of the district (a report for every district: every supervisor)",
    },
    Place {
        place: "A person's own copy (GDPR art. 15)",
        holds: "made from the stored document when a supervisor asks: the household's record, the person's member record, the visits they were at, their goals and steps, with who wrote each entry and when; nothing of it is kept by the server, and the access log records that it was made and released (with how many passages were withheld)",
        kept: "not kept: handed to the person as a printed page or a JSON file",
        read_by: "the supervisor of the household's district who makes it, then the person",
    },
    Place {
        place: "Server: backups and checkpoint files",
        holds: "a copy of the whole database; the audit chain's signed tips (hashes, no personal data)",
        kept: "as the municipality keeps backups: gallring does not reach into them, so a restored backup must be thinned out again before use",
        read_by: "whoever administers the host",
    },
    Place {
        place: "Phone (the browser's IndexedDB)",
        holds: "the caseload's household documents, their summaries and sync states; reads queued for the access log (ids and times); what the server refused and kept for the person; a visit being typed, as a draft",
        kept: "until sign-out, a revocation, ten wrong passwords (everything is erased) or until the household is removed or leaves the caseload (erased at the next contact with the server); encrypted at rest (AES-256-GCM, the key wrapped by the person's password or passphrase), unreadable while the app is locked",
        read_by: "the staff member signed in on the phone, while it is unlocked",
    },
    Place {
        place: "Desk (the browser's IndexedDB)",
        holds: "the district's household documents, and households as at past instants for the reports",
        kept: "until sign-out, or until the household is removed (erased at the next contact); encrypted at rest as on the phone",
        read_by: "the supervisor signed in, while the app is unlocked",
    },
];

/// The data map as Markdown: `docs/data-map.md`.
pub fn data_map_markdown() -> String {
    let mut out = String::from(
        "# Data map\n\n\
         Generated by `cargo xtask data-map` from `core/src/data_map.rs`, whose test checks the \
         household fields against the schema. For the municipality's impact assessment \
         (DPIA): what Lots keeps about a person, where, for how long, and who reads it.\n\n\
         ## Fields of a household\n\n\
         Every household is one document; `*` stands for any member, visit, goal, step or \
         follow-up.\n\n\
         | Field | What | Kind |\n|---|---|---|\n",
    );
    for field in HOUSEHOLD_FIELDS {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            field.path,
            field.what,
            field.kind.words()
        ));
    }
    out.push_str("\n## Where it is kept\n\n| Where | What | For how long | Who reads it |\n|---|---|---|---|\n");
    for place in PLACES {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            place.place, place.holds, place.kept, place.read_by
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every leaf's path in `value`, map keys under `maps` as `*`.
    fn leaves(value: &serde_json::Value, path: &str, out: &mut BTreeSet<String>) {
        // Maps keyed by ids (members, visits, goals …) and sets (present, topics) end in
        // `*`; the plain structs name their fields.
        const KEYED: [&str; 6] = ["members", "visits", "follow_ups", "goals", "steps", ""];
        match value {
            serde_json::Value::Object(map) => {
                let keyed = KEYED
                    .iter()
                    .any(|name| !name.is_empty() && path.rsplit('.').next() == Some(*name));
                if keyed {
                    for child in map.values() {
                        leaves(child, &format!("{path}.*"), out);
                    }
                } else if path.ends_with("present")
                    || path.ends_with("topics")
                    || path.ends_with("notes")
                {
                    out.insert(path.to_owned());
                } else {
                    for (key, child) in map {
                        let next = if path.is_empty() {
                            key.clone()
                        } else {
                            format!("{path}.{key}")
                        };
                        leaves(child, &next, out);
                    }
                }
            }
            _ => {
                out.insert(path.to_owned());
            }
        }
    }

    #[test]
    fn every_household_field_is_on_the_map_and_nothing_else() {
        let mut generator = crate::synthetic::Generator::new(5);
        let mut found = BTreeSet::new();
        for _ in 0..20 {
            let household = generator.household_value();
            let json = serde_json::to_value(&household).unwrap_or_default();
            leaves(&json, "", &mut found);
        }
        let mapped: BTreeSet<String> = HOUSEHOLD_FIELDS
            .iter()
            .map(|field| field.path.to_owned())
            .collect();
        let unmapped: Vec<_> = found.difference(&mapped).collect();
        assert!(
            unmapped.is_empty(),
            "fields not on the data map: {unmapped:?}"
        );
        let stale: Vec<_> = mapped.difference(&found).collect();
        assert!(stale.is_empty(), "entries that name no field: {stale:?}");
    }

    // The file is read from disk, which a browser has not.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn docs_data_map_md_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/data-map.md");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == data_map_markdown(),
            "docs/data-map.md is out of date: run `cargo xtask data-map`"
        );
    }
}
