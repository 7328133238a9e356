//! The administrator's form to remove one household on a decision (a household recorded in
//! error, say), as typed, changed one field at a time and read as the request to send.

use std::rc::Rc;

use yew::Reducible;

/// The form as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemovalForm {
    /// The household's document id, as pasted.
    pub household: String,
    /// The decision's reference (diarienummer).
    pub decision: String,
    /// Why, in words, for the record.
    pub reason: String,
}

/// One thing the administrator does on the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovalAction {
    /// The household's id.
    Household(String),
    /// The decision.
    Decision(String),
    /// The reason.
    Reason(String),
    /// Removed: the form empties for the next one.
    Done,
}

/// What to send: every field trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The household's document id.
    pub household: String,
    /// The decision.
    pub decision: String,
    /// The reason.
    pub reason: String,
}

/// Why the form cannot be sent as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RemovalError {
    /// A field is empty: a removal names the household, the decision and why.
    #[error("the household, the decision and the reason are all needed")]
    Missing,
}

impl RemovalForm {
    /// The removal to ask the server for.
    pub fn to_request(&self) -> Result<Removal, RemovalError> {
        let [household, decision, reason] =
            [&self.household, &self.decision, &self.reason].map(|field| field.trim().to_owned());
        if [&household, &decision, &reason]
            .iter()
            .any(|field| field.is_empty())
        {
            return Err(RemovalError::Missing);
        }
        Ok(Removal {
            household,
            decision,
            reason,
        })
    }
}

impl Reducible for RemovalForm {
    type Action = RemovalAction;

    fn reduce(self: Rc<Self>, action: RemovalAction) -> Rc<Self> {
        let mut form = (*self).clone();
        match action {
            RemovalAction::Household(text) => form.household = text,
            RemovalAction::Decision(text) => form.decision = text,
            RemovalAction::Reason(text) => form.reason = text,
            RemovalAction::Done => form = RemovalForm::default(),
        }
        Rc::new(form)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removal_names_the_household_the_decision_and_why() {
        let form = Rc::new(RemovalForm::default())
            .reduce(RemovalAction::Household(" h-0001 ".into()))
            .reduce(RemovalAction::Decision("SN 2026/114".into()));
        assert_eq!(form.to_request(), Err(RemovalError::Missing));
        let form = form.reduce(RemovalAction::Reason("   ".into()));
        assert_eq!(
            form.to_request(),
            Err(RemovalError::Missing),
            "blank is empty"
        );
        let form = form.reduce(RemovalAction::Reason("Registrerat av misstag".into()));
        assert_eq!(
            form.to_request(),
            Ok(Removal {
                household: "h-0001".into(),
                decision: "SN 2026/114".into(),
                reason: "Registrerat av misstag".into(),
            })
        );
        assert_eq!(*form.reduce(RemovalAction::Done), RemovalForm::default());
    }
}
