//! The signed-in user's account: password change and API tokens (a new
//! token's secret is shown once, right after it is made; after a password
//! change, a notice says how many tokens it revoked).

use leptos::prelude::*;

use crate::accounts::data::AccountPage;
use crate::accounts::load::load_account;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::forms::{Choice, Field, FormAlert, FormCard, Submit};
use crate::components::page_header::PageHeader;

#[component]
pub fn AccountPageView() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_account());
    view! {
        <PageHeader title="Account" description="Your password and API tokens." />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <Account page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Account(page: AccountPage) -> impl IntoView {
    let AccountPage {
        user,
        tokens,
        new_secret,
        notice,
    } = page;
    view! {
        <p class="mb-6 text-sm">
            "Signed in as " <strong id="account-username">{user.username}</strong>
            {user.is_admin.then_some(" (instance admin)")}
        </p>
        {notice
            .map(|notice| {
                view! {
                    <p id="account-notice" role="status" class="mb-6 rounded-md border border-green-300 bg-green-50 p-4 text-sm dark:border-green-800 dark:bg-green-950">
                        {notice}
                    </p>
                }
            })}
        {new_secret
            .map(|secret| {
                view! {
                    <div class="mb-6 rounded-md border border-green-300 bg-green-50 p-4 text-sm dark:border-green-800 dark:bg-green-950">
                        <p class="font-medium">"Your new token. Copy it now: it will not be shown again."</p>
                        <code id="new-token" class="mt-2 block break-all">{secret}</code>
                    </div>
                }
            })}
        <div class="grid gap-6 lg:grid-cols-2">
            <FormCard title="Change password" action="/ui/account/password".to_owned()>
                <FormAlert form="password" />
                <Field form="password" name="current_password" label="Current password" kind="password" required=true />
                <Field form="password" name="new_password" label="New password" kind="password" required=true />
                <Submit label="Change password" />
            </FormCard>
            <FormCard title="New API token" action="/ui/account/tokens".to_owned()>
                <FormAlert form="token" />
                <Field form="token" name="name" label="Name" required=true />
                <Choice form="token" name="scope" label="Scope" options=&["read", "write", "admin"] />
                <Field form="token" name="expires_in_days" label="Expires in days (empty: never)" kind="number" />
                <Submit label="Create token" />
            </FormCard>
        </div>
        <h2 class="mb-2 font-medium">"API tokens"</h2>
        <div class="relative overflow-x-auto" tabindex="0"><table class="w-full text-left text-sm">
            <thead>
                <tr class="border-b border-stone-200 dark:border-stone-800">
                    <th class="py-2">"Name"</th><th>"Token"</th><th>"Scope"</th><th>"Last used"</th><th>"Expires"</th><th></th>
                </tr>
            </thead>
            <tbody>
                {tokens
                    .into_iter()
                    .map(|t| {
                        let revoke = format!("/ui/account/tokens/{}/revoke", t.id);
                        view! {
                            <tr class="border-b border-stone-100 dark:border-stone-900">
                                <td class="py-2">{t.name}</td>
                                <td><code>{t.hint} "…"</code></td>
                                <td>{t.scope}</td>
                                <td>{t.last_used_at.unwrap_or_else(|| "never".into())}</td>
                                <td>{t.expires_at.unwrap_or_else(|| "never".into())}</td>
                                <td>
                                    {match t.revoked_at {
                                        Some(at) => view! { <span>"revoked " {at}</span> }.into_any(),
                                        None => view! {
                                            <form method="post" action=revoke>
                                                <button type="submit" class="text-red-700 underline dark:text-red-300">"Revoke"</button>
                                            </form>
                                        }.into_any(),
                                    }}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
}
