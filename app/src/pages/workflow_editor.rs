//! A workflow's page: its YAML in an editor with line numbers (a plain
//! form: saving makes a new version and says which; a draft that does not
//! load comes back, name and all, with each problem's line and column and
//! those lines marked), the form that starts a run (one field per param, by
//! type), the last 50 runs' durations and outcomes as a chart, the graph of
//! the text in the editor, and the saved versions with any two compared.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::breadcrumbs::Breadcrumbs;
use crate::components::code_editor::CodeEditor;
use crate::components::denied::{DeniedView, LoadError};
use crate::components::draft_graph::DraftGraph;
use crate::components::forms::FormAlert;
use crate::components::run_state::{duration, fill};
use crate::components::version_history::VersionHistory;
use crate::runs::data::{GraphView, ParamView, ProblemView, RunBar, WorkflowPage};
use crate::runs::load::{draft_graph, load_workflow};

#[component]
pub fn WorkflowEditorPage() -> impl IntoView {
    view! { <WorkflowLoader new=false /> }
}

#[component]
pub fn NewWorkflowPage() -> impl IntoView {
    view! { <WorkflowLoader new=true /> }
}

#[component]
fn WorkflowLoader(new: bool) -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        let project = p
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0);
        (project, if new { None } else { p.get("name") })
    };
    // `?from=3&to=5` compares two saved versions.
    let query = use_query_map();
    let compare = move || {
        let q = query.read();
        let version = |key: &str| q.get(key).and_then(|v| v.parse::<i32>().ok());
        version("from").zip(version("to"))
    };
    let data = Resource::new(
        move || (key(), compare()),
        |((project, name), compare)| load_workflow(project, name, compare),
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Ok(page)) => view! { <Workflow page /> }.into_any(),
                    Ok(Err(denied)) => view! { <DeniedView denied /> }.into_any(),
                    Err(e) => view! { <LoadError message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The editor's textarea (the draft graph follows what is typed in it).
const SOURCE_ID: &str = "workflow-source";

#[component]
fn Workflow(page: WorkflowPage) -> impl IntoView {
    let WorkflowPage {
        project,
        crumbs,
        name,
        version,
        source,
        problems,
        params,
        recent,
        can_edit,
        can_run,
        versions,
        compare,
        graph,
    } = page;
    let title = name.clone().unwrap_or_else(|| "New workflow".to_owned());
    let save = format!("/ui/projects/{}/workflows", project.id);
    let here = format!(
        "/projects/{}/workflows/{}",
        project.id,
        name.clone().unwrap_or_default()
    );
    let runs = format!(
        "/projects/{}/runs?workflow={}",
        project.id,
        name.clone().unwrap_or_default()
    );
    let marked: Vec<usize> = problems.iter().map(|p| p.line).collect();
    let has_problems = !problems.is_empty();
    // After a failed save of a new workflow, the name typed comes back in
    // the address (the draft itself is kept by the server).
    let query = use_query_map();
    let typed_name = query.read_untracked().get("name").unwrap_or_default();
    let saved = query
        .read_untracked()
        .get("saved")
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|v| Some(*v) == version);
    view! {
        <Title text=title.clone() />
        <Breadcrumbs crumbs />
        <div class="mb-4 flex flex-wrap items-baseline gap-3">
            <h1 class="break-all text-2xl font-semibold tracking-tight" id="workflow-title">{title}</h1>
            {version.map(|v| view! { <span class="text-xs text-stone-500">{format!("version {v}")}</span> })}
            {name.is_some().then(|| view! { <a class="text-sm underline" href=runs>"Runs"</a> })}
        </div>
        <div class="grid gap-6 lg:grid-cols-3">
            <form method="post" action=save class="lg:col-span-2" id="workflow-form">
                {saved.map(|v| view! {
                    <p role="status" id="saved-note" class="mb-3 rounded-md bg-green-50 px-3 py-2 text-sm text-green-800 dark:bg-green-950 dark:text-green-200">
                        {format!("Saved version {v}.")}
                    </p>
                })}
                <FormAlert form="workflow" />
                <Problems problems />
                <label class="mb-2 flex items-center gap-2 text-sm">
                    "Name"
                    <input name="name" required=true value=name.clone().unwrap_or(typed_name) readonly=name.is_some()
                        class="rounded-md border border-stone-300 px-2 py-1 font-mono dark:border-stone-700 dark:bg-stone-900" />
                </label>
                // Erased: with the island's wrapper the page's view type
                // nests past the compiler's query depth.
                {view! {
                    <CodeEditor name="source".to_owned() id=SOURCE_ID.to_owned() label="The workflow, in YAML".to_owned() source readonly=!can_edit
                        marked=marked described_by=has_problems.then(|| "problems".to_owned()) />
                }.into_any()}
                {can_edit.then(|| view! {
                    <button type="submit" class="mt-2 rounded-md bg-orange-700 px-4 py-2 text-sm font-medium text-white">"Save"</button>
                })}
            </form>
            <div>
                {(can_run && name.is_some()).then(|| view! {
                    <RunForm project=project.id name=name.clone().unwrap_or_default() params />
                })}
                <Chart recent />
            </div>
        </div>
        {view! { <LiveGraph project=project.id graph /> }.into_any()}
        <VersionHistory page=here versions compare />
    }
}

/// The graph of the text in the editor, drawn again a moment after typing
/// stops (the server reads the text: the browser carries no YAML parser).
/// While the text does not load, the last graph stays, marked as such. An
/// island: it hears the editor's typing as the `input` events of the
/// textarea `#SOURCE_ID`, which bubble up to the window. It is not given
/// the text (the textarea holds it already): until something is typed
/// there is nothing to draw again.
#[island]
fn LiveGraph(project: i64, graph: Option<GraphView>) -> impl IntoView {
    let typed = RwSignal::new(None::<String>);
    let _typing = window_event_listener(leptos::ev::input, move |ev| {
        use leptos::wasm_bindgen::JsCast;
        let area = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok());
        if let Some(area) = area.filter(|a| a.id() == SOURCE_ID) {
            typed.set(Some(area.value()));
        }
    });
    let shown = RwSignal::new(graph);
    let stale = RwSignal::new(false);
    let asked = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let Some(text) = typed.get() else {
            return;
        };
        set_timeout(
            move || {
                // The page may be gone by now (its signals disposed): then nothing.
                let settled =
                    typed.try_with_untracked(|now| now.as_ref() == Some(&text)) == Some(true);
                let new = asked.try_with_value(|a| a.as_ref() != Some(&text)) == Some(true);
                if !settled || !new {
                    return;
                }
                asked.set_value(Some(text.clone()));
                leptos::task::spawn_local(async move {
                    let Ok(Ok(found)) = draft_graph(project, text.clone()).await else {
                        return;
                    };
                    // Only the answer for the latest text asked about counts.
                    if asked.try_with_value(|a| a.as_ref() == Some(&text)) == Some(true) {
                        stale.try_set(found.is_none());
                        if found.is_some() {
                            shown.try_set(found);
                        }
                    }
                });
            },
            std::time::Duration::from_millis(400),
        );
    });
    view! {
        {move || shown.get().map(|graph| view! { <DraftGraph graph /> })}
        <p id="draft-graph-stale" class="mt-1 text-xs text-stone-500" aria-live="polite">
            {move || stale.get().then(|| if shown.with(Option::is_some) {
                "The text does not load yet: the graph shows the last text that did."
            } else {
                "The text does not load yet."
            })}
        </p>
    }
}

#[component]
fn Problems(problems: Vec<ProblemView>) -> impl IntoView {
    (!problems.is_empty()).then(|| {
        view! {
            <ul id="problems" class="mb-3 rounded-md border border-red-300 bg-red-50 p-3 font-mono text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
                {problems
                    .into_iter()
                    .map(|p| view! { <li>{format!("line {}, column {}: {}", p.line, p.column, p.message)}</li> })
                    .collect_view()}
            </ul>
        }
    })
}

#[component]
fn RunForm(project: i64, name: String, params: Vec<ParamView>) -> impl IntoView {
    let action = format!("/ui/projects/{project}/workflows/{name}/run");
    view! {
        <form method="post" action=action id="run-form" class="mb-6 rounded-lg border border-stone-200 bg-white p-4 dark:border-stone-800 dark:bg-stone-900">
            <h2 class="mb-3 font-medium">"Run"</h2>
            <FormAlert form="run" />
            {params
                .into_iter()
                .map(|p| {
                    let field = format!("param.{}", p.name);
                    let input = match p.kind.as_str() {
                        "boolean" => view! {
                            <select name=field.clone() class="rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900">
                                <option value="" selected=true>{format!("default ({})", p.default.clone().unwrap_or_default())}</option>
                                <option value="true">"true"</option>
                                <option value="false">"false"</option>
                            </select>
                        }.into_any(),
                        kind => view! {
                            <input name=field.clone() type=if kind == "string" { "text" } else { "number" }
                                step=if kind == "number" { "any" } else { "1" }
                                placeholder=p.default.clone().unwrap_or_default() required=p.default.is_none()
                                class="w-full rounded-md border border-stone-300 px-2 py-1 dark:border-stone-700 dark:bg-stone-900" />
                        }.into_any(),
                    };
                    view! {
                        <label class="mb-3 block text-sm">
                            <span class="font-mono">{p.name.clone()}</span>
                            <span class="text-xs text-stone-500">{format!(" {}", p.kind)}</span>
                            {input}
                            <span class="text-xs text-stone-500">{p.description}</span>
                        </label>
                    }
                })
                .collect_view()}
            <button type="submit" class="rounded-md bg-orange-700 px-4 py-2 text-sm font-medium text-white">"Start run"</button>
        </form>
    }
}

/// Bars for the last runs: height is the duration, colour the outcome.
#[component]
fn Chart(recent: Vec<RunBar>) -> impl IntoView {
    if recent.is_empty() {
        return view! { <p class="text-sm text-stone-500">"No runs yet."</p> }.into_any();
    }
    let longest = recent
        .iter()
        .filter_map(|r| r.duration_ms)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (width, height, bar) = (300.0, 100.0, 300.0 / 50.0);
    let bars = recent
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let h = r.duration_ms.map_or(4.0, |d| (d as f64 / longest * (height - 4.0)).max(2.0));
            view! {
                <a href=format!("/runs/{}", r.id)>
                    <rect x=i as f64 * bar y=height - h width=bar - 1.0 height=h fill=fill(r.state.into())>
                        <title>{format!("run {}: {}, {}", r.id, r.state, duration(r.duration_ms))}</title>
                    </rect>
                </a>
            }
        })
        .collect_view();
    view! {
        <h2 class="mb-2 font-medium">"Last runs"</h2>
        <svg id="duration-chart" width=width height=height class="rounded border border-stone-200 bg-white dark:border-stone-800 dark:bg-stone-900">
            {bars}
        </svg>
        <p class="mt-1 text-xs text-stone-500">{format!("longest: {}", duration(Some(longest as i64)))}</p>
    }
    .into_any()
}
