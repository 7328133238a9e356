//! The field that gets the cursor when a form opens.

use yew::prelude::*;

/// A reference for the field that gets the cursor when a form opens.
#[hook]
pub fn use_focus_first() -> NodeRef {
    let first = use_node_ref();
    {
        let first = first.clone();
        use_effect_with((), move |_| {
            if let Some(input) = first.cast::<web_sys::HtmlInputElement>() {
                let _ = input.focus();
            }
        });
    }
    first
}
