//! Deciding which of 100 pipeline files a push starts: reading each file
//! (YAML, globs, validation) and checking its `when:` against the push's
//! changed files, as the webhook receiver does per delivery. Prints the
//! median and the slowest of 50 rounds. `cargo bench -p kiln-core`.

use std::time::Instant;

use kiln_core::pipeline::{self, Change, EventKind};
use kiln_core::workflow::Limits;

fn pipeline_file(i: usize) -> String {
    format!(
        "name: service-{i}\nwhen:\n  event: [push, pull_request]\n  branch: [main, 'release/*']\n  paths:\n    include: ['services/s{i}/**', 'libs/common/**']\n    exclude: ['**/*.md']\nsteps:\n  - name: lint\n    run: make -C services/s{i} lint\n  - name: test\n    run: make -C services/s{i} test\n    timeout: 10m\n  - name: build\n    run: make -C services/s{i} build\n    artifacts: [services/s{i}/dist]\n  - name: deploy\n    needs: [build]\n    run: ./deploy s{i}\n    secrets: [DEPLOY_TOKEN]\n    when: {{ branch: main }}\n  - name: notify\n    run: ./notify\n    when: {{ status: failure }}\n"
    )
}

fn main() {
    let files: Vec<(String, String)> = (0..100)
        .map(|i| (format!(".kiln/s{i}.yml"), pipeline_file(i)))
        .collect();
    // A push touching 3 services and some docs, 200 files in all.
    let changed: Vec<String> = (0..200)
        .map(|n| match n % 4 {
            0 => format!("services/s7/src/f{n}.rs"),
            1 => format!("services/s42/src/f{n}.rs"),
            2 => format!("docs/page{n}.md"),
            _ => format!("services/s99/README{n}.md"),
        })
        .collect();
    let change = Change {
        event: EventKind::Push,
        branch: Some("main"),
        tag: None,
        paths: Some(&changed),
    };
    let limits = Limits::default();
    let mut rounds = Vec::new();
    let mut started = 0;
    for _ in 0..50 {
        let t = Instant::now();
        started = 0;
        for (name, source) in &files {
            let Ok(p) = pipeline::load(name, source, &limits) else {
                panic!("{name} does not load");
            };
            if p.when.check(&change).is_ok() {
                started += 1;
            }
        }
        rounds.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    rounds.sort_by(f64::total_cmp);
    println!(
        "deciding 100 pipeline files against one push of 200 changed files: median {:.2} ms, slowest {:.2} ms ({started} start)",
        rounds[rounds.len() / 2],
        rounds[rounds.len() - 1]
    );
}
