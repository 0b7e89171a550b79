//! What a step attempt needs before it runs: its params, the outputs of
//! the upstream steps its templates name, and the secrets it asks for
//! (withheld from untrusted commits); and whether preparing it is cheap
//! enough to do on the async threads.

use std::collections::BTreeMap;

use kiln_core::workflow::Task;
use kiln_core::workflow::prepare::StepInputs;

use super::definitions::Definition;
use super::{Engine, repo, secret_store};
use crate::ServiceError;
use crate::accounts::nodes;
use crate::db::entities::{run, step};

/// Whether preparing `task` is small, fixed work: no template tag (every
/// tag of the template language starts with a brace), no upstream outputs
/// loaded, and few and short texts and params (each text still goes
/// through the renderer, with a copy of the params).
pub fn cheap_to_prepare(task: &Task, inputs: &StepInputs) -> bool {
    const MAX_TEXTS: usize = 32;
    const MAX_BYTES: usize = 16 * 1024;
    let texts = task.templates();
    let text_bytes: usize = texts.iter().map(|(_, text)| text.len()).sum();
    let param_bytes: usize = inputs.params.iter().map(|(k, v)| k.len() + v.len()).sum();
    texts.len() <= MAX_TEXTS
        && text_bytes + param_bytes <= MAX_BYTES
        && inputs.outputs.is_empty()
        && texts.iter().all(|(_, text)| !text.contains('{'))
}

/// Params, upstream outputs and the requested secrets.
pub async fn inputs(
    engine: &Engine,
    run: &run::Model,
    row: &step::Model,
    workflow: &Definition,
    task: &Task,
) -> Result<StepInputs, ServiceError> {
    let params: BTreeMap<String, String> = serde_json::from_str(&run.params).unwrap_or_default();
    // Only upstream tasks' outputs can appear in its templates, and only
    // in a template that names them.
    let upstream = workflow.upstream_of(&task.id);
    let mut outputs = BTreeMap::new();
    if !upstream.is_empty() && task.may_read_outputs() {
        let finished = repo::outputs_of(&engine.db, run.id, upstream).await?;
        for other in finished {
            if let Some(json) = other.outputs.as_deref() {
                let values: BTreeMap<String, String> =
                    serde_json::from_str(json).unwrap_or_default();
                outputs.insert(other.task, values);
            }
        }
    }
    let withheld = match (&run.commit_info, super::checkout::commit_of(run)) {
        (_, Some(commit)) => commit.secrets_withheld(run.approved_by.is_some()),
        // Whose code it is cannot be told: not trusted.
        (Some(_), None) => Some("the run's commit could not be read"),
        (None, None) => None,
    };
    let secrets = if task.secrets.is_empty() || withheld.is_some() {
        BTreeMap::new()
    } else {
        let project = nodes::get(&engine.db, run.project_id)
            .await?
            .ok_or(ServiceError::NotFound("project"))?;
        secret_store::resolve(&engine.db, &engine.key, &project.full_path, &task.secrets).await?
    };
    Ok(StepInputs {
        run_id: run.id,
        trigger: run.trigger.to_string(),
        started_at: chrono::DateTime::from_timestamp_millis(run.created_at_ms)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        workflow: workflow.name.clone().unwrap_or_default(),
        attempt: row.attempt,
        params,
        outputs,
        secrets,
        secrets_withheld: withheld.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_task(source: &str) -> Task {
        kiln_core::workflow::load(source).unwrap().tasks.remove(0)
    }

    #[test]
    fn only_small_tag_free_tasks_are_prepared_in_place() {
        let plain = first_task("tasks:\n  a:\n    run: ./tasks.sh --fast\n");
        let inputs = StepInputs::default();
        assert!(cheap_to_prepare(&plain, &inputs));
        // A tag of any kind, in the command or in env.
        for tagged in [
            "tasks:\n  a:\n    run: echo {{ run.id }}\n",
            "tasks:\n  a:\n    run: echo {% if true %}y{% endif %}\n",
            "tasks:\n  a:\n    run: 'true'\n    env:\n      X: '{# note #}'\n",
        ] {
            assert!(!cheap_to_prepare(&first_task(tagged), &inputs), "{tagged}");
        }
        // Upstream outputs loaded (a text naming `tasks`) go off the threads.
        let mut with_outputs = StepInputs::default();
        with_outputs
            .outputs
            .insert("up".into(), BTreeMap::from([("v".into(), "1".into())]));
        assert!(!cheap_to_prepare(&plain, &with_outputs));
        // Many texts, long texts or large params too.
        let many_env: String = (0..40).map(|i| format!("      E{i}: v\n")).collect();
        let many = format!("tasks:\n  a:\n    run: 'true'\n    env:\n{many_env}");
        assert!(!cheap_to_prepare(&first_task(&many), &inputs));
        let long = format!("tasks:\n  a:\n    run: echo {}\n", "x".repeat(20_000));
        assert!(!cheap_to_prepare(&first_task(&long), &inputs));
        let mut big_params = StepInputs::default();
        big_params.params.insert("p".into(), "x".repeat(20_000));
        assert!(!cheap_to_prepare(&plain, &big_params));
    }
}
