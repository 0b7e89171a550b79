//! Instance administration: every account (instance admins only).

use leptos::prelude::*;

use crate::accounts::load::load_users;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::forms::{Field, FormAlert, FormCard, Submit};
use crate::components::page_header::PageHeader;

#[component]
pub fn AdminPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_users());
    view! {
        <PageHeader title="Admin" description="Accounts on this instance." />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(users)) => view! {
                        <FormCard title="Create an account" action="/ui/admin/users".to_owned()>
                            <FormAlert form="user" />
                            <p class="mb-3 text-sm">"Works in every registration mode: this is how accounts are made when registration is by invitation."</p>
                            <Field form="user" name="username" label="Username" required=true />
                            <Field form="user" name="password" label="Initial password" kind="password" required=true />
                            <Submit label="Create account" />
                        </FormCard>
                        <div class="relative overflow-x-auto" tabindex="0"><table class="w-full text-left text-sm" id="users">
                            <thead>
                                <tr class="border-b border-stone-200 dark:border-stone-800">
                                    <th class="py-2">"Id"</th><th>"Username"</th><th>"Admin"</th><th>"Created"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {users.into_iter().map(|u| view! {
                                    <tr class="border-b border-stone-100 dark:border-stone-900">
                                        <td class="py-2">{u.id}</td>
                                        <td>{u.username}</td>
                                        <td>{if u.is_admin { "yes" } else { "" }}</td>
                                        <td>{u.created_at}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table></div>
                    }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
