//! The schedule pages: every schedule the viewer can see (`/schedules`), a
//! project's schedules with the form to add one, and one schedule with its
//! next instants, its controls (pause, resume, run now, delete), the edit
//! form and its history of firings with a lateness chart.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use crate::components::schedule_form::{ScheduleDefaults, ScheduleForm};
use crate::schedules::data::{FiringRow, SchedulePage, ScheduleRow, SchedulesPage as Page};
use crate::schedules::load::{load_schedule, load_schedules};

fn id_param(name: &'static str) -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || {
        params
            .read()
            .get(name)
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    }
}

/// Every schedule the viewer can see.
#[component]
pub fn SchedulesPage() -> impl IntoView {
    let data = Resource::new(|| (), |()| load_schedules(None));
    view! {
        <PageHeader title="Schedules" description="Cron schedules across your projects and their last firing." />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <ScheduleTable rows=page.rows with_project=true /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A project's schedules and the form to add one.
#[component]
pub fn ProjectSchedulesPage() -> impl IntoView {
    let project = id_param("id");
    let data = Resource::new(project, |id| load_schedules(Some(id)));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <ProjectSchedules page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProjectSchedules(page: Page) -> impl IntoView {
    let Page {
        project,
        crumbs,
        rows,
        can_edit,
        workflows,
    } = page;
    let Some(project) = project else {
        return view! { <EmptyState message="No such project." /> }.into_any();
    };
    let form = (can_edit && !workflows.is_empty()).then(|| {
        view! {
            <ScheduleForm
                title="New schedule"
                action=format!("/ui/projects/{}/schedules", project.id)
                defaults=ScheduleDefaults { cron: "0 3 * * *".into(), ..ScheduleDefaults::default() }
                workflows=workflows
                submit="Create schedule"
            />
        }
    });
    view! {
        <Title text=format!("Schedules of {}", project.name) />
        <Breadcrumbs crumbs />
        <h1 class="mb-4 text-2xl font-semibold tracking-tight">{format!("Schedules of {}", project.name)}</h1>
        <ScheduleTable rows with_project=false />
        {form}
    }
    .into_any()
}

fn when(stamp: &Option<String>) -> String {
    stamp.clone().unwrap_or_else(|| "—".into())
}

#[component]
fn ScheduleTable(rows: Vec<ScheduleRow>, with_project: bool) -> impl IntoView {
    if rows.is_empty() {
        return view! { <EmptyState message="No schedules yet." /> }.into_any();
    }
    view! {
        <div class="relative overflow-x-auto" tabindex="0"><table class="mb-6 w-full text-left text-sm" id="schedules">
            <thead>
                <tr class="border-b border-stone-200 dark:border-stone-800">
                    <th scope="col" class="py-2">"Schedule"</th>
                    {with_project.then(|| view! { <th scope="col">"Project"</th> })}
                    <th scope="col">"When"</th>
                    <th scope="col">"Starts"</th>
                    <th scope="col">"Next"</th>
                    <th scope="col">"Last firing"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|r| view! {
                        <tr class="border-b border-stone-100 dark:border-stone-900" data-schedule=r.id>
                            <td class="py-2"><a class="underline" href=format!("/schedules/{}", r.id)>{r.name.clone()}</a></td>
                            {with_project.then(|| view! {
                                <td><a class="underline" href=format!("/projects/{}/schedules", r.project_id)>{r.project.clone()}</a></td>
                            })}
                            <td class="font-mono">{format!("{} ({})", r.cron, r.timezone)}</td>
                            <td>{r.target.clone()}</td>
                            <td>{if r.paused {
                                view! { <span>"paused"</span> }.into_any()
                            } else {
                                view! { <span title=when(&r.next)>{r.next_in.clone().unwrap_or_else(|| "—".into())}</span> }.into_any()
                            }}</td>
                            <td>{r.last_outcome.clone().unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

/// One schedule: next instants, controls, edit form, history.
#[component]
pub fn ScheduleDetailPage() -> impl IntoView {
    let id = id_param("id");
    let data = Resource::new(id, load_schedule);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <ScheduleDetail page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn button(action: String, label: &'static str, id: &'static str) -> impl IntoView {
    view! {
        <form method="post" action=action class="inline">
            <button type="submit" id=id class="rounded-md border border-stone-300 px-3 py-1 text-sm dark:border-stone-700">{label}</button>
        </form>
    }
}

#[component]
fn ScheduleDetail(page: SchedulePage) -> impl IntoView {
    let SchedulePage {
        project: _,
        crumbs,
        row,
        concurrency,
        catchup,
        starting_deadline,
        next,
        firings,
        can_edit,
        can_run,
    } = page;
    let id = row.id;
    let controls = view! {
        <div class="mb-4 flex flex-wrap gap-2" id="schedule-controls">
            {(can_edit && row.paused).then(|| button(format!("/ui/schedules/{id}/resume"), "Resume", "resume-schedule"))}
            {(can_edit && !row.paused).then(|| button(format!("/ui/schedules/{id}/pause"), "Pause", "pause-schedule"))}
            {can_run.then(|| button(format!("/ui/schedules/{id}/run"), "Run now", "run-schedule"))}
            {can_edit.then(|| button(format!("/ui/schedules/{id}/delete"), "Delete", "delete-schedule"))}
        </div>
    };
    let defaults = ScheduleDefaults {
        name: row.name.clone(),
        cron: row.cron.clone(),
        timezone: row.timezone.clone(),
        deadline: starting_deadline.clone().unwrap_or_default(),
        concurrency: concurrency.clone(),
        catchup: catchup.clone(),
    };
    view! {
        <Title text=format!("Schedule {}", row.name) />
        <Breadcrumbs crumbs />
        <h1 class="mb-1 text-2xl font-semibold tracking-tight">{row.name.clone()}</h1>
        <p class="mb-4 text-sm text-stone-600 dark:text-stone-400" id="schedule-summary">
            <span class="font-mono">{format!("{} in {}", row.cron, row.timezone)}</span>
            {format!(" · starts {} · {} while running · catch-up {}{}", row.target, concurrency, catchup,
                starting_deadline.map(|d| format!(" · deadline {d}")).unwrap_or_default())}
            {row.paused.then(|| view! { <span class="ml-2 rounded bg-stone-200 px-2 py-0.5 text-xs dark:bg-stone-800" id="schedule-paused">"paused"</span> })}
        </p>
        {controls}
        <h2 class="mb-2 font-medium">"Next instants (UTC)"</h2>
        <ul class="mb-6 font-mono text-sm" id="schedule-next">
            {if next.is_empty() {
                view! { <li>"none while paused"</li> }.into_any()
            } else {
                next.into_iter().map(|n| view! { <li>{n}</li> }).collect_view().into_any()
            }}
        </ul>
        <h2 class="mb-2 font-medium">"History"</h2>
        <LatenessChart firings=firings.clone() />
        <History firings />
        {can_edit.then(|| view! {
            <ScheduleForm title="Edit" action=format!("/ui/schedules/{id}") defaults submit="Save" />
        })}
    }
}

#[component]
fn History(firings: Vec<FiringRow>) -> impl IntoView {
    if firings.is_empty() {
        return view! { <EmptyState message="It has not fired yet." /> }.into_any();
    }
    view! {
        <div class="relative overflow-x-auto" tabindex="0"><table class="mb-6 w-full text-left text-sm" id="firings">
            <thead>
                <tr class="border-b border-stone-200 dark:border-stone-800">
                    <th scope="col" class="py-2">"Instant (UTC)"</th><th scope="col">"Outcome"</th><th scope="col">"Late"</th><th scope="col">"Run"</th>
                </tr>
            </thead>
            <tbody>
                {firings.into_iter().map(|f| view! {
                    <tr class="firing border-b border-stone-100 dark:border-stone-900" data-outcome=f.outcome.clone()>
                        <td class="py-2 font-mono">{f.instant.clone()}</td>
                        <td>{format!("{}{}", f.outcome, if f.manual { " (run now)" } else { "" })}
                            {f.error.map(|e| view! { <span class="block text-xs text-red-700 dark:text-red-300">{e}</span> })}</td>
                        <td>{format!("{} ms", f.lateness_ms)}</td>
                        <td>{f.run_id.map(|r| view! { <a class="underline" href=format!("/runs/{r}")>{format!("#{r}")}</a> })}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

/// Lateness of the recent firings that started runs, oldest left.
#[component]
fn LatenessChart(firings: Vec<FiringRow>) -> impl IntoView {
    let bars: Vec<i64> = firings
        .iter()
        .rev()
        .filter(|f| f.run_id.is_some() && !f.manual)
        .map(|f| f.lateness_ms)
        .collect();
    if bars.is_empty() {
        return ().into_any();
    }
    let most = bars.iter().copied().max().unwrap_or(1).max(1);
    let width = 600.0;
    let height = 60.0;
    let step = width / bars.len() as f64;
    view! {
        <svg id="lateness-chart" role="img" aria-label="Lateness of recent firings" viewBox=format!("0 0 {width} {height}") class="mb-4 h-16 w-full max-w-xl">
            {bars.into_iter().enumerate().map(|(i, late)| {
                let h = (late as f64 / most as f64 * (height - 2.0)).max(1.0);
                view! {
                    <rect x=i as f64 * step y=height - h width=(step - 1.0).max(1.0) height=h fill="#ea580c">
                        <title>{format!("{late} ms late")}</title>
                    </rect>
                }
            }).collect_view()}
        </svg>
    }
    .into_any()
}
