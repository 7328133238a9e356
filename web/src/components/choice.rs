//! A `<select>` that always shows the value it is given.
//!
//! Yew renders an option's `selected` as a content attribute, and a browser stops following
//! that attribute for an option once the person has picked in that list (the option's
//! "dirtiness" in the HTML standard). A status that then changes underneath — merged from
//! another device, or a conflict settled — would leave the list showing a stale or the first
//! option. So after each render this sets the list's `value` property, which always wins.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::i18n::{Language, code};

/// Options for a list of domain codes, each labelled in the person's language.
pub fn coded(
    prefix: &str,
    codes: impl IntoIterator<Item = &'static str>,
) -> Vec<(AttrValue, AttrValue)> {
    codes
        .into_iter()
        .map(|value| {
            (
                AttrValue::Static(value),
                AttrValue::from(code(prefix, value)),
            )
        })
        .collect()
}

/// The languages the app speaks, each named in itself.
pub fn languages() -> Vec<(AttrValue, AttrValue)> {
    Language::ALL
        .iter()
        .map(|language| {
            (
                AttrValue::Static(language.tag()),
                AttrValue::Static(language.name()),
            )
        })
        .collect()
}

/// What a [`Choice`] shows and whom it tells.
#[derive(Properties, PartialEq)]
pub struct ChoiceProps {
    /// The element id, for a `<label for>`.
    #[prop_or_default]
    pub id: Option<AttrValue>,
    /// An accessible name where no visible label points at the list.
    #[prop_or_default]
    pub label: Option<AttrValue>,
    /// The value shown: one of the options' values.
    pub value: AttrValue,
    /// The options as (value, label).
    pub options: Vec<(AttrValue, AttrValue)>,
    /// Called with the value the person picked.
    pub onchange: Callback<String>,
}

/// A drop-down list showing `value`, reporting the person's pick.
#[function_component(Choice)]
pub fn choice(props: &ChoiceProps) -> Html {
    let node = use_node_ref();
    {
        let (node, value) = (node.clone(), props.value.clone());
        use_effect(move || {
            if let Some(select) = node.cast::<HtmlSelectElement>()
                && select.value() != value.as_str()
            {
                select.set_value(&value);
            }
        });
    }
    let onchange = props.onchange.reform(|event: Event| {
        let select: HtmlSelectElement = event.target_unchecked_into();
        select.value()
    });
    html! {
        <select ref={node} id={props.id.clone()} aria-label={props.label.clone()} {onchange}>
            { for props.options.iter().map(|(value, label)| html! {
                <option value={value.clone()} selected={*value == props.value}>{ label.clone() }</option>
            }) }
        </select>
    }
}
