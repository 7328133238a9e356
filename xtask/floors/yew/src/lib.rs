//! The least a Yew app with a router is: two routes, a component with state, an input and a
//! link. `cargo xtask bench-wasm` builds this as the web app is built and reports its brotli
//! size beside the app's, as the floor Yew sets under any app built on it.

use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Clone, PartialEq, Routable)]
enum Route {
    #[at("/")]
    Home,
    #[at("/households/:id")]
    Household { id: String },
}

#[function_component]
fn Counter() -> Html {
    let count = use_state(|| 0_u32);
    let text = use_state(String::new);
    let onclick = {
        let count = count.clone();
        Callback::from(move |_| count.set(*count + 1))
    };
    let oninput = {
        let text = text.clone();
        Callback::from(move |event: InputEvent| {
            let input: web_sys::HtmlInputElement = event.target_unchecked_into();
            text.set(input.value());
        })
    };
    html! {
        <main>
            <button {onclick}>{ format!("{} besök", *count) }</button>
            <input {oninput} value={(*text).clone()} />
            <Link<Route> to={Route::Household { id: (*text).clone() }}>{ "Hushåll" }</Link<Route>>
        </main>
    }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! { <Counter /> },
        Route::Household { id } => html! { <p>{ id }</p> },
    }
}

#[function_component]
fn App() -> Html {
    html! {
        <BrowserRouter>
            <Switch<Route> render={switch} />
        </BrowserRouter>
    }
}

/// Starts the app in the page.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<App>::new().render();
}
