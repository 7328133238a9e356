//! The screens, one module each.

pub mod admin;
pub mod desk;
pub mod household;
pub mod households;
pub mod kept;
pub mod password;
pub mod plan;
pub mod shell;
pub mod signin;
pub mod today;
pub mod unlock;
pub mod visit;

use lots_core::automerge::Automerge;
use lots_core::{
    ActionError, DocumentId, Household, HouseholdDoc, Signature, Timestamp, VisitStatus,
};
use yew::Callback;

use crate::i18n::t1;
use crate::refused::Reason;
use crate::session::Session;

/// The next planned visit from `now` on.
pub fn next_visit(household: &Household, now: Timestamp) -> Option<Timestamp> {
    household
        .visits
        .values()
        .filter(|visit| visit.status == VisitStatus::Planned && visit.planned_at >= now)
        .map(|visit| visit.planned_at)
        .min()
}

/// Open follow-ups past their due date.
pub fn overdue_follow_ups(household: &Household, now: Timestamp) -> usize {
    let today = crate::i18n::local_date(now);
    household
        .visits
        .values()
        .flat_map(|visit| visit.follow_ups.values())
        .filter(|follow_up| follow_up.done_on.is_none() && follow_up.due_on < today)
        .count()
}

/// The household's name as staff say it: the members' first names.
pub fn household_name(household: &Household) -> String {
    let names: Vec<&str> = household
        .members
        .values()
        .map(|member| {
            member
                .name
                .split_whitespace()
                .next()
                .unwrap_or(&member.name)
        })
        .collect();
    names.join(", ")
}

/// What an input element holds now (empty when the reference is not an input yet).
pub fn input_value(node: &yew::NodeRef) -> String {
    node.cast::<web_sys::HtmlInputElement>()
        .map(|input| input.value())
        .unwrap_or_default()
}

/// Runs one of core's actions on a household as the signed-in person, now, and reports the
/// outcome: `Ok` once the change is on the device, or the error in words.
pub fn change(
    session: &Session,
    document: DocumentId,
    report: Callback<Result<(), String>>,
    action: impl FnOnce(&Signature, &mut HouseholdDoc<&mut Automerge>) -> Result<(), ActionError>
    + 'static,
) {
    let (Some(staff), Some(device)) = (session.staff(), session.device()) else {
        return report.emit(Err("this device has no signed-in person".to_owned()));
    };
    let session = session.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let signature = session.engine.signature(&staff, &device);
        let result = session
            .engine
            .act(document, |household| action(&signature, household))
            .await;
        report.emit(result.map_err(|error| error.to_string()));
    });
}

/// The reasons of a refusal in words, from the server's codes.
pub fn reasons_in_words(codes: &[String]) -> String {
    let words: Vec<String> = codes
        .iter()
        .map(|code| match Reason::from_code(code) {
            Some(reason) => crate::i18n::code("refused-reason", reason.code()),
            None => t1("refused-reason-unknown", "code", code.clone()),
        })
        .collect();
    if words.is_empty() {
        t1("refused-reason-unknown", "code", "-")
    } else {
        words.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{self, Language};

    #[test]
    fn the_reasons_of_a_refusal_read_as_words() {
        i18n::set_language(Language::English);
        assert_eq!(
            reasons_in_words(&["unsigned".into(), "depends".into()]),
            "it was not signed; it builds on another change that was refused"
        );
        assert!(reasons_in_words(&["new-code".into()]).contains("(new-code)"));
        i18n::set_language(Language::Swedish);
    }
}
