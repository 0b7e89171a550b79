//! Comparing two versions of a workflow, as the editor's version history
//! does on each page load: a 10,000-line file with 50 lines edited in
//! place and 50 added, a file rewritten past the bound (refused), and the
//! worst shape found for the bound (every line changed, 1,000 of them).
//! Prints the median and the slowest of 20 rounds.
//! `cargo bench -p kiln-core --bench line_diff`.

use std::time::{Duration, Instant};

use kiln_core::line_diff::hunks;

/// The editor's settings: three lines of context, 1,000 changed lines.
const CONTEXT: usize = 3;
const BOUND: usize = 1_000;

fn timed(name: &str, old: &str, new: &str) {
    let mut rounds: Vec<Duration> = Vec::new();
    let mut shown = None;
    for _ in 0..20 {
        let t = Instant::now();
        shown = Some(hunks(old, new, CONTEXT, BOUND).map(|h| h.len()));
        rounds.push(t.elapsed());
    }
    rounds.sort();
    println!(
        "{name}: median {:.2} ms, slowest {:.2} ms ({} lines; {})",
        rounds[rounds.len() / 2].as_secs_f64() * 1e3,
        rounds[rounds.len() - 1].as_secs_f64() * 1e3,
        old.lines().count(),
        match shown.flatten() {
            Some(n) => format!("{n} hunks"),
            None => "refused: too different".to_owned(),
        }
    );
}

fn main() {
    let old: String = (0..10_000)
        .map(|i| format!("  task_{i}:\n    run: make step-{i}\n"))
        .collect::<String>();
    let mut edited = old.clone();
    for i in (0..10_000).step_by(200) {
        edited = edited.replacen(
            &format!("make step-{i}\n"),
            &format!("make step-{i} --fast\n"),
            1,
        );
        edited = edited.replacen(
            &format!("  task_{}:\n", i + 100),
            &format!("  extra_{i}:\n    run: echo new\n  task_{}:\n", i + 100),
            1,
        );
    }
    timed("50 edits and 50 additions", &old, &edited);
    let rewritten: String = old.replace("make", "just");
    timed("every command rewritten", &old, &rewritten);
    let thousand: String = old
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i < 1_000 && i % 2 == 1 {
                format!("{l} x\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    timed("500 lines changed (1,000 edits)", &old, &thousand);
}
