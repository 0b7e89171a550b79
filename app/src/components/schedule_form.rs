//! The schedule form (create and edit): a plain HTML form that posts
//! without JavaScript, with the expression's next five instants shown live
//! as it is typed (in the schedule's zone and in UTC), computed by the
//! server after a short pause in typing.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::forms::{Field, FormAlert, Submit};
use crate::schedules::data::PreviewView;
use crate::schedules::load::preview_cron;

/// What the form starts with (an edit's current values).
#[derive(Debug, Clone, Default)]
pub struct ScheduleDefaults {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub deadline: String,
    pub concurrency: String,
    pub catchup: String,
}

#[component]
pub fn ScheduleForm(
    title: &'static str,
    action: String,
    defaults: ScheduleDefaults,
    /// The project's workflows (create only; an edit keeps its target).
    #[prop(optional)]
    workflows: Option<Vec<String>>,
    submit: &'static str,
) -> impl IntoView {
    let query = use_query_map();
    let typed = |name: &str, default: String| {
        query
            .read_untracked()
            .get(name)
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
    };
    let cron = typed("cron", defaults.cron);
    let zone = typed(
        "timezone",
        if defaults.timezone.is_empty() {
            "UTC".into()
        } else {
            defaults.timezone
        },
    );
    // The error the last post left on a field (see `forms::Field`).
    let error = |field: &str| {
        let q = query.read_untracked();
        (q.get("form").as_deref() == Some("schedule") && q.get("field").as_deref() == Some(field))
            .then(|| q.get("error"))
            .flatten()
    };
    let (cron_error, zone_error) = (error("cron"), error("timezone"));
    view! {
        <form
            method="post"
            action=action
            id="schedule-form"
            class="mb-6 rounded-lg border border-stone-200 bg-white p-5 dark:border-stone-800 dark:bg-stone-900"
        >
            <h2 class="mb-3 font-medium">{title}</h2>
            <FormAlert form="schedule" />
            <Field form="schedule" name="name" label="Name" value=defaults.name required=true />
            <CronFields cron zone cron_error zone_error />
            {workflows.map(|names| view! { <WorkflowChoice names /> })}
            <Select name="concurrency" label="While the previous run still runs" options=&["forbid", "allow", "replace"] chosen=defaults.concurrency />
            <Select name="catchup" label="Instants missed while no server ran" options=&["last", "none", "all"] chosen=defaults.catchup />
            <Field form="schedule" name="starting_deadline" label="Starting deadline (e.g. 10m; empty: none)" value=defaults.deadline />
            <Submit label=submit />
        </form>
    }
}

/// The expression and its zone, with the preview of what they give (an
/// island: the preview follows the typing).
#[island]
fn CronFields(
    cron: String,
    zone: String,
    cron_error: Option<String>,
    zone_error: Option<String>,
) -> impl IntoView {
    let cron = RwSignal::new(cron);
    let zone = RwSignal::new(zone);
    view! {
        <TextInput name="cron" label="Cron expression (minute hour day month weekday, or @daily)" value=cron error=cron_error />
        <TextInput name="timezone" label="Time zone (IANA, e.g. Europe/Berlin)" value=zone error=zone_error />
        <CronPreview cron zone />
    }
}

/// A labelled text input bound to `value` (for the live preview), with
/// the error the last post left on it.
#[component]
fn TextInput(
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    error: Option<String>,
) -> impl IntoView {
    let id = format!("schedule-{name}");
    let invalid = error.is_some().then_some("true");
    view! {
        <div class="mb-3">
            <label for=id.clone() class="mb-1 block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type="text"
                required=true
                autocomplete="off"
                spellcheck="false"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=invalid
                class="w-full rounded-md border border-stone-300 bg-white px-3 py-2 font-mono text-sm dark:border-stone-700 dark:bg-stone-900"
            />
            {error.map(|message| view! {
                <p class="field-error mt-1 text-sm text-red-700 dark:text-red-300" data-field=name>{message}</p>
            })}
        </div>
    }
}

/// A choice among fixed values with one already chosen.
#[component]
fn Select(
    name: &'static str,
    label: &'static str,
    options: &'static [&'static str],
    chosen: String,
) -> impl IntoView {
    let id = format!("schedule-{name}");
    view! {
        <div class="mb-3">
            <label for=id.clone() class="mb-1 block text-sm font-medium">{label}</label>
            <select id=id name=name class="w-full rounded-md border border-stone-300 bg-white px-3 py-2 text-sm dark:border-stone-700 dark:bg-stone-900">
                {options.iter().map(|o| view! { <option value=*o selected=*o == chosen>{*o}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn WorkflowChoice(names: Vec<String>) -> impl IntoView {
    view! {
        <div class="mb-3">
            <label for="schedule-workflow" class="mb-1 block text-sm font-medium">"Workflow to start"</label>
            <select id="schedule-workflow" name="workflow" class="w-full rounded-md border border-stone-300 bg-white px-3 py-2 text-sm dark:border-stone-700 dark:bg-stone-900">
                {names.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// The next five instants of what is typed, refreshed as it changes.
#[component]
fn CronPreview(cron: RwSignal<String>, zone: RwSignal<String>) -> impl IntoView {
    // Typing settles for a moment before the server is asked.
    let settled = RwSignal::new((cron.get_untracked(), zone.get_untracked()));
    Effect::new(move |_| {
        let typed = (cron.get(), zone.get());
        set_timeout(
            move || {
                if (cron.get_untracked(), zone.get_untracked()) == typed {
                    settled.set(typed);
                }
            },
            std::time::Duration::from_millis(250),
        );
    });
    let preview = Resource::new(move || settled.get(), |(expr, tz)| preview_cron(expr, tz));
    view! {
        <div id="cron-preview" class="mb-3 rounded-md bg-stone-50 px-3 py-2 text-sm dark:bg-stone-950" aria-live="polite">
            <p class="mb-1 font-medium">"Next five instants"</p>
            <Transition fallback=|| view! { <p>"…"</p> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(PreviewView { error: Some(error), .. }) => view! {
                            <p class="text-red-700 dark:text-red-300" id="cron-preview-error">{error}</p>
                        }.into_any(),
                        Ok(PreviewView { instants, .. }) => view! {
                            <table class="w-full font-mono text-xs">
                                <thead><tr><th class="text-left">"In the zone"</th><th class="text-left">"UTC"</th></tr></thead>
                                <tbody>
                                    {instants.into_iter().map(|(local, utc)| view! {
                                        <tr class="cron-instant"><td>{local}</td><td>{utc}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p>{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
