//! Plain HTML forms that work without JavaScript: they post to the server,
//! which redirects back with `?form=…&field=…&error=…` when something is
//! wrong. These pieces show that error beside the field it is about.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Which errors of a form a piece shows.
#[derive(Clone, Copy)]
enum About {
    /// Errors about this field.
    Field(&'static str),
    /// Errors about the form as a whole.
    Form,
    /// Every error of the form (a form of one button has no fields to
    /// show them beside).
    Any,
}

/// The error in the URL, if it belongs to `form` and is `about` that.
fn error_for(form: &'static str, about: About) -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| {
        let query = query.read();
        if query.get("form").as_deref() != Some(form) {
            return None;
        }
        let field = query.get("field").unwrap_or_default();
        let matches = match about {
            About::Field(name) => field == name,
            About::Form => field.is_empty(),
            About::Any => true,
        };
        matches.then(|| query.get("error")).flatten()
    })
}

/// An error about the form as a whole (no field named); with `any_field`,
/// any error of the form.
#[component]
pub fn FormAlert(form: &'static str, #[prop(optional)] any_field: bool) -> impl IntoView {
    let error = error_for(form, if any_field { About::Any } else { About::Form });
    view! {
        {move || {
            error.get()
                .map(|message| {
                    view! {
                        <p role="alert" class="mb-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
                            {message}
                        </p>
                    }
                })
        }}
    }
}

/// A labelled input with its error beside it.
#[component]
pub fn Field(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let error = error_for(form, About::Field(name));
    let id = format!("{form}-{name}");
    let query = use_query_map();
    // Put back what was typed (never a password) after an error.
    let value = value.or_else(|| {
        (kind != "password")
            .then(|| query.read_untracked().get(name))
            .flatten()
    });
    view! {
        <div class="mb-3">
            <label for=id.clone() class="mb-1 block text-sm font-medium">{label}</label>
            <input
                id=id.clone()
                name=name
                type=kind
                value=value
                required=required
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=move || error.get().is_some().then(|| error_id(form, name))
                class="w-full rounded-md border border-stone-300 bg-white px-3 py-2 text-sm dark:border-stone-700 dark:bg-stone-900"
            />
            <FieldError error form name />
        </div>
    }
}

/// A choice among fixed values, with its error beside it.
#[component]
pub fn Choice(
    form: &'static str,
    name: &'static str,
    label: &'static str,
    options: &'static [&'static str],
) -> impl IntoView {
    let error = error_for(form, About::Field(name));
    let id = format!("{form}-{name}");
    view! {
        <div class="mb-3">
            <label for=id.clone() class="mb-1 block text-sm font-medium">{label}</label>
            <select
                id=id
                name=name
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=move || error.get().is_some().then(|| error_id(form, name))
                class="w-full rounded-md border border-stone-300 bg-white px-3 py-2 text-sm dark:border-stone-700 dark:bg-stone-900"
            >
                {options.iter().map(|o| view! { <option value=*o>{*o}</option> }).collect_view()}
            </select>
            <FieldError error form name />
        </div>
    }
}

#[component]
pub fn Submit(label: &'static str) -> impl IntoView {
    view! {
        <button
            type="submit"
            class="rounded-md bg-orange-700 px-4 py-2 text-sm font-medium text-white hover:bg-orange-800"
        >
            {label}
        </button>
    }
}

/// A card holding one form.
#[component]
pub fn FormCard(title: &'static str, action: String, children: Children) -> impl IntoView {
    view! {
        <form
            method="post"
            action=action
            class="mb-6 rounded-lg border border-stone-200 bg-white p-5 dark:border-stone-800 dark:bg-stone-900"
        >
            <h2 class="mb-3 font-medium">{title}</h2>
            {children()}
        </form>
    }
}

/// The id of a field's message: its input names it (`aria-describedby`),
/// so a screen reader reads the message with the field.
fn error_id(form: &str, name: &str) -> String {
    format!("{form}-{name}-error")
}

/// The message beside a field, when the URL carries one for it.
#[component]
fn FieldError(
    error: Memo<Option<String>>,
    form: &'static str,
    name: &'static str,
) -> impl IntoView {
    move || {
        error.get().map(|message| {
            view! {
                <p class="field-error mt-1 text-sm text-red-700 dark:text-red-300" data-field=name id=error_id(form, name)>
                    {message}
                </p>
            }
        })
    }
}
