//! A pipeline's graph for one event: the steps its `when:` rules leave out
//! are removed, and a step that waited for a removed one waits for what
//! that one waited for (so order is kept: with `a → b → c` and `b` left
//! out, `c` still runs after `a`). Woodpecker and GitLab drop filtered
//! steps the same way, rather than marking them skipped and skipping
//! everything after them.

use std::collections::{BTreeSet, HashMap};

use crate::workflow::{Position, Workflow};

/// `workflow` without the tasks in `excluded`, needs rewired.
pub fn without(workflow: &Workflow, excluded: &BTreeSet<String>) -> Workflow {
    if excluded.is_empty() {
        return workflow.clone();
    }
    let needs_of: HashMap<&str, &Vec<(String, Position)>> = workflow
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), &t.needs))
        .collect();
    let mut memo: HashMap<String, Vec<(String, Position)>> = HashMap::new();
    let mut out = workflow.clone();
    out.tasks.retain(|t| !excluded.contains(&t.id));
    for task in &mut out.tasks {
        let mut kept: Vec<(String, Position)> = Vec::new();
        for (need, at) in &task.needs {
            for (id, _) in kept_needs(need, *at, excluded, &needs_of, &mut memo) {
                if !kept.iter().any(|(k, _)| k == &id) {
                    kept.push((id, *at));
                }
            }
        }
        task.needs = kept;
    }
    out
}

/// What waiting for `id` means once the excluded steps are gone.
fn kept_needs(
    id: &str,
    at: Position,
    excluded: &BTreeSet<String>,
    needs_of: &HashMap<&str, &Vec<(String, Position)>>,
    memo: &mut HashMap<String, Vec<(String, Position)>>,
) -> Vec<(String, Position)> {
    if !excluded.contains(id) {
        return vec![(id.to_owned(), at)];
    }
    if let Some(found) = memo.get(id) {
        return found.clone();
    }
    // Iterative over a stack: the graph is acyclic (validated), but may be
    // 2,000 steps deep.
    let mut result = Vec::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = needs_of
        .get(id)
        .map(|n| n.iter().map(|(x, _)| x.clone()).collect())
        .unwrap_or_default();
    while let Some(next) = stack.pop() {
        if !seen.insert(next.clone()) {
            continue;
        }
        if excluded.contains(&next) {
            stack.extend(
                needs_of
                    .get(next.as_str())
                    .into_iter()
                    .flat_map(|n| n.iter().map(|(x, _)| x.clone())),
            );
        } else {
            result.push((next, at));
        }
    }
    result.sort();
    memo.insert(id.to_owned(), result.clone());
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::load;
    use crate::workflow::Limits;

    fn needs(w: &Workflow) -> Vec<(String, Vec<String>)> {
        w.tasks
            .iter()
            .map(|t| {
                (
                    t.id.clone(),
                    t.needs.iter().map(|(n, _)| n.clone()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn left_out_steps_pass_their_needs_on() {
        let p = load(
            ".kiln/x.yml",
            "steps:\n  - name: a\n    run: x\n  - name: b\n    run: x\n  - name: c\n    run: x\n  - name: d\n    needs: [b, c]\n    run: x\n",
            &Limits::default(),
        )
        .unwrap();
        let out: BTreeSet<String> = ["b".to_owned(), "c".to_owned()].into();
        let w = without(&p.workflow, &out);
        assert_eq!(
            needs(&w),
            [
                ("a".to_owned(), vec![]),
                ("d".to_owned(), vec!["a".to_owned()])
            ]
        );
        assert_eq!(without(&p.workflow, &BTreeSet::new()).tasks.len(), 4);
    }

    #[test]
    fn a_deep_chain_of_left_out_steps() {
        let mut source = "steps:\n".to_owned();
        for i in 0..2000 {
            source.push_str(&format!("  - name: s{i}\n    run: x\n"));
        }
        let p = load(".kiln/x.yml", &source, &Limits::default()).unwrap();
        let out: BTreeSet<String> = (1..1999).map(|i| format!("s{i}")).collect();
        let w = without(&p.workflow, &out);
        assert_eq!(
            needs(&w),
            [
                ("s0".to_owned(), vec![]),
                ("s1999".to_owned(), vec!["s0".to_owned()])
            ]
        );
    }
}
