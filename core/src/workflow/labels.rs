//! Worker labels are granted, not claimed: a task's `runs_on:` may name
//! only labels an instance admin granted to one of the project's groups
//! (machines behind a label hold that team's deploy keys). The names
//! themselves follow one small rule so they can be queue names too.

use std::collections::BTreeSet;

use super::definition::Workflow;
use super::error::DefinitionError;

/// A label: 1–64 of `a-z 0-9 - _ .`, starting with a letter or digit.
pub fn check_label(label: &str) -> Result<(), String> {
    let valid = !label.is_empty()
        && label.len() <= 64
        && label.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "worker label {label:?} must be 1 to 64 of a-z, 0-9, -, _ and ., starting with a letter or digit"
        ))
    }
}

/// One error per task and label it may not use, at the task.
pub fn ungranted(workflow: &Workflow, granted: &BTreeSet<String>) -> Vec<DefinitionError> {
    let mut errors = Vec::new();
    for task in &workflow.tasks {
        for label in &task.runs_on {
            if let Err(message) = check_label(label) {
                errors.push(DefinitionError::new(
                    task.at,
                    format!("task {}: {message}", task.id),
                ));
            } else if !granted.contains(label) {
                errors.push(DefinitionError::new(
                    task.at,
                    format!(
                        "task {}: worker label {label:?} is not granted to this project's groups \
                         (an instance admin grants labels to groups)",
                        task.id
                    ),
                ));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::load;

    #[test]
    fn only_granted_labels_pass_and_errors_name_them() {
        let workflow = load(
            "tasks:\n  a:\n    run: x\n    runs_on: [deployer]\n  b:\n    run: y\n    runs_on: [gpu, linux]\n",
        )
        .unwrap();
        let granted: BTreeSet<String> = ["gpu".to_owned(), "linux".to_owned()].into();
        let errors = ungranted(&workflow, &granted);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("\"deployer\""), "{errors:?}");
        assert_eq!(errors[0].at.line, 2);
        let everything: BTreeSet<String> = ["gpu", "linux", "deployer"].map(str::to_owned).into();
        assert!(ungranted(&workflow, &everything).is_empty());
    }

    #[test]
    fn label_names() {
        for good in ["gpu", "x86_64", "eu-west.1", "0day"] {
            assert!(check_label(good).is_ok(), "{good}");
        }
        for bad in ["", "GPU", "-x", "a b", "ü", &"a".repeat(65)] {
            assert!(check_label(bad).is_err(), "{bad}");
        }
    }
}
