//! What a run executes, and what its definition is the source of: a saved
//! workflow or a pipeline file read at a commit. Stored as its name, like
//! the states; parsed back strictly.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(
    feature = "db",
    derive(sea_orm::DeriveValueType),
    sea_orm(value_type = "String")
)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Workflow,
    /// Reports its outcome to the git host as a commit status.
    Pipeline,
}

impl RunKind {
    pub const ALL: [RunKind; 2] = [RunKind::Workflow, RunKind::Pipeline];

    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Workflow => "workflow",
            RunKind::Pipeline => "pipeline",
        }
    }
}

stored_names!(RunKind, "kind");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        for kind in RunKind::ALL {
            assert_eq!(kind.as_str().parse::<RunKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{kind}\""));
        }
        for unknown in ["", "Workflow", "pipelines", "workflow "] {
            assert!(unknown.parse::<RunKind>().is_err(), "{unknown:?}");
        }
    }
}
