//! Sign in and sign up: plain forms, so they work before (and without) the
//! WASM bundle.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::forms::{Field, FormAlert, Submit};
use crate::components::page_header::PageHeader;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.read_untracked().get("next").unwrap_or_default();
    view! {
        <div class="mx-auto max-w-sm">
            <PageHeader title="Sign in" description="Welcome back." />
            <form method="post" action="/ui/login" class="rounded-lg border border-stone-200 bg-white p-5 dark:border-stone-800 dark:bg-stone-900">
                <FormAlert form="login" />
                <input type="hidden" name="next" value=next />
                <Field form="login" name="username" label="Username" required=true />
                <Field form="login" name="password" label="Password" kind="password" required=true />
                <Submit label="Sign in" />
            </form>
            <p class="mt-4 text-sm">"No account? " <a href="/register" class="text-orange-700 underline dark:text-orange-300">"Register"</a></p>
        </div>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! {
        <div class="mx-auto max-w-sm">
            <PageHeader title="Register" description="The first account becomes the instance admin." />
            <form method="post" action="/ui/register" class="rounded-lg border border-stone-200 bg-white p-5 dark:border-stone-800 dark:bg-stone-900">
                <FormAlert form="register" />
                <Field form="register" name="username" label="Username" required=true />
                <Field form="register" name="password" label="Password (8 characters or more)" kind="password" required=true />
                <Submit label="Create account" />
            </form>
            <p class="mt-4 text-sm">"Have an account? " <a href="/login" class="text-orange-700 underline dark:text-orange-300">"Sign in"</a></p>
        </div>
    }
}
