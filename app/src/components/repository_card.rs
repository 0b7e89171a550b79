//! The linked repository on the pipelines page, for maintainers: where Kiln
//! fetches from, the hook URL and secret with the settings to choose in the
//! git host, the form to link or change it, and a new secret on demand.

use leptos::prelude::*;

use crate::components::forms::{Field, FormAlert, FormCard, Submit};
use crate::pipelines::data::RepositoryView;

/// Where the hook goes in each host, and what to tick.
fn host_settings(provider: &str) -> (&'static str, &'static [&'static str]) {
    match provider {
        "github" => (
            "GitHub: Settings → Webhooks → Add webhook",
            &[
                "Payload URL: the hook URL above",
                "Content type: application/json",
                "Secret: the hook secret above",
                "Let me select individual events: Pushes, Pull requests (branch and tag creation arrive as pushes)",
            ],
        ),
        "gitlab" => (
            "GitLab: Settings → Webhooks → Add new webhook",
            &[
                "URL: the hook URL above",
                "Secret token: the hook secret above",
                "Trigger: Push events, Tag push events, Merge request events",
                "GitLab always sends JSON",
            ],
        ),
        _ => (
            "Gitea or Forgejo: Settings → Webhooks → Add webhook → Gitea",
            &[
                "Target URL: the hook URL above",
                "HTTP method: POST; POST content type: application/json",
                "Secret: the hook secret above",
                "Trigger on: Custom events: Create, Delete, Push, Pull request (and Pull request synchronized)",
            ],
        ),
    }
}

#[component]
pub fn RepositoryCard(project: i64, repository: Option<RepositoryView>) -> impl IntoView {
    let base = format!("/ui/projects/{project}/repository");
    let provider = repository
        .as_ref()
        .map(|r| r.provider.clone())
        .unwrap_or_else(|| "gitea".into());
    let linked = repository.clone().map(|r| {
        let (where_, ticks) = host_settings(&r.provider);
        view! {
            <section id="repository" class="mb-6 rounded-lg border border-stone-200 bg-white p-5 text-sm dark:border-stone-800 dark:bg-stone-900">
                <h2 class="mb-3 font-medium">"Repository"</h2>
                <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
                    <dt class="text-stone-500">"URL"</dt><dd class="break-all font-mono" id="linked-url">{r.url}</dd>
                    <dt class="text-stone-500">"Host"</dt><dd id="linked-provider">{r.provider}</dd>
                    <dt class="text-stone-500">"Default branch"</dt><dd class="font-mono">{r.default_branch}</dd>
                    <dt class="text-stone-500">"Status token"</dt><dd>{if r.has_status_token { "set (never shown)" } else { "none: no commit statuses" }}</dd>
                    <dt class="text-stone-500">"Hook URL"</dt><dd class="break-all font-mono" id="hook-url">{r.hook_url}</dd>
                    <dt class="text-stone-500">"Hook secret"</dt><dd class="break-all font-mono" id="hook-secret">{r.hook_secret}</dd>
                </dl>
                <h3 class="mb-1 mt-4 font-medium">{where_}</h3>
                <ul class="ml-4 list-disc" id="host-settings">
                    {ticks.iter().map(|t| view! { <li>{*t}</li> }).collect_view()}
                </ul>
                <form method="post" action=format!("{base}/rotate-secret") class="mt-4">
                    <FormAlert form="rotate" />
                    <button type="submit" id="rotate-secret" class="rounded-md border border-stone-300 px-3 py-1 dark:border-stone-700">
                        "New hook secret (the host must be given it)"
                    </button>
                </form>
            </section>
        }
    });
    let current = repository.unwrap_or(RepositoryView {
        url: String::new(),
        provider: provider.clone(),
        default_branch: "main".into(),
        hook_url: String::new(),
        hook_secret: String::new(),
        has_status_token: false,
        api_url: None,
    });
    let shown_url = if current.url.contains("***") {
        String::new()
    } else {
        current.url.clone()
    };
    let title = if linked.is_some() {
        "Change the repository"
    } else {
        "Link a repository"
    };
    view! {
        {linked}
        <FormCard title action=base.clone()>
            <FormAlert form="repository" />
            // A URL shown with its password masked is not put back: saved
            // again, the mask would replace the password.
            <Field form="repository" name="url" label="Clone URL (https, ssh)" value=shown_url required=true />
            <div class="mb-3">
                <label for="repository-provider-choice" class="mb-1 block text-sm font-medium">"Host"</label>
                <select id="repository-provider-choice" name="provider" class="w-full rounded-md border border-stone-300 bg-white px-3 py-2 text-sm dark:border-stone-700 dark:bg-stone-900">
                    {["gitea", "github", "gitlab"]
                        .into_iter()
                        .map(|p| view! { <option value=p selected=p == provider>{p}</option> })
                        .collect_view()}
                </select>
            </div>
            <Field form="repository" name="default_branch" label="Default branch" value=current.default_branch.clone() />
            <Field form="repository" name="api_url" label="Host API URL (only when not the usual one)" value=current.api_url.clone().unwrap_or_default() />
            <Field form="repository" name="status_token" label="Status token (empty: keep the stored one)" kind="password" />
            <Submit label="Save repository" />
        </FormCard>
    }
    .into_any()
}
