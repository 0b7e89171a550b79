//! A pipeline as read from its file: its name, the rules that start it, and
//! its steps as the engine's graph, with each step's own rules beside it.

use crate::workflow::Workflow;

use super::when::When;

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    /// Which events, branches, tags and changed paths start the pipeline.
    pub when: When,
    /// The steps as tasks (file order; a step without `needs:` waits for the
    /// one before it), with the pipeline's `env:`.
    pub workflow: Workflow,
    /// Per step, in file order: what the graph does not carry.
    pub steps: Vec<StepRules>,
    pub concurrency: Option<Concurrency>,
}

/// `concurrency:`: runs of the same group (a template, e.g.
/// `deploy-{{ branch }}`) do not overlap; a new one cancels the running one
/// or waits for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concurrency {
    pub group: String,
    pub cancel_in_progress: bool,
}

#[derive(Debug, Clone)]
pub struct StepRules {
    pub id: String,
    /// Which events, branches, tags and paths the step runs for; a step
    /// left out is skipped when the run starts.
    pub when: When,
    /// Paths saved after the step succeeds, for the steps that need it.
    pub artifacts: Vec<String>,
}

impl Pipeline {
    pub fn step(&self, id: &str) -> Option<&StepRules> {
        self.steps.iter().find(|s| s.id == id)
    }
}
