//! The app's addresses: one [`Route`] per screen, after `#` in the URL.

use yew_router::prelude::*;

/// The app's addresses (after `#`, so any static server and the service worker serve them).
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    /// My households.
    #[at("/")]
    Households,
    /// Planned visits, today and this week.
    #[at("/today")]
    Today,
    /// One household.
    #[at("/h/:id")]
    Household {
        /// Its document id.
        id: String,
    },
    /// One household, to read (the supervisor's desk).
    #[at("/h/:id/read")]
    ReadHousehold {
        /// Its document id.
        id: String,
    },
    /// A person's own copy of what is held about them (the supervisor's desk).
    #[at("/h/:id/copy/:member")]
    PersonCopy {
        /// The household.
        id: String,
        /// The member.
        member: String,
    },
    /// Recording a visit (a new one, or a planned one by id).
    #[at("/h/:id/visit/:visit")]
    RecordVisit {
        /// The household.
        id: String,
        /// `new`, or the planned visit's id.
        visit: String,
    },
    /// The supervisor's desk: every household of their districts.
    #[at("/desk")]
    Desk,
    /// Each staff member's workload.
    #[at("/desk/workload")]
    Workload,
    /// Plan progress per district, as of a date.
    #[at("/desk/plans")]
    Plans,
    /// The tertial report and the cost share.
    #[at("/desk/report")]
    Report,
    /// The access log.
    #[at("/desk/log")]
    Log,
    /// Refused changes, for a supervisor to accept or reject.
    #[at("/desk/quarantine")]
    Quarantine,
    /// Anything else.
    #[not_found]
    #[at("/404")]
    NotFound,
}
