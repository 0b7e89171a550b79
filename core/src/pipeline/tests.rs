use super::*;
use crate::engine::TriggerRule;

const DESIGN_EXAMPLE: &str = r#"name: backend
when:
  event: [push, pull_request, tag, manual]
  branch: [main, "release/*"]
  paths:
    include: ["services/backend/**", "libs/common/**"]
    exclude: ["**/*.md"]
env: { RUST_LOG: info }
steps:
  - name: test
    run: cargo test
    timeout: 10m
  - name: deploy
    needs: [test]
    run: ./deploy.sh
    secrets: [DEPLOY_TOKEN]
    when: { branch: main }
"#;

fn load_ok(file: &str, source: &str) -> Pipeline {
    match load(file, source, &Limits::default()) {
        Ok(p) => p,
        Err(errors) => panic!("{errors:?}"),
    }
}

fn errors_of(source: &str) -> Vec<String> {
    match load(".kiln/x.yml", source, &Limits::default()) {
        Ok(_) => panic!("expected errors"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn files(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn push<'a>(branch: &'a str, paths: &'a [String]) -> Change<'a> {
    Change {
        event: EventKind::Push,
        branch: Some(branch),
        tag: None,
        paths: Some(paths),
    }
}

#[test]
fn the_design_example_reads_as_written() {
    let p = load_ok(".kiln/whatever.yml", DESIGN_EXAMPLE);
    assert_eq!(p.name, "backend");
    assert_eq!(p.workflow.name.as_deref(), Some("backend"));
    assert_eq!(p.workflow.env["RUST_LOG"], "info");
    let ids: Vec<&str> = p.workflow.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["test", "deploy"]);
    assert_eq!(p.workflow.tasks[1].needs[0].0, "test");
    assert_eq!(p.workflow.tasks[1].secrets, ["DEPLOY_TOKEN"]);
    assert_eq!(
        p.workflow.tasks[0].timeout,
        Some(std::time::Duration::from_secs(600))
    );
    assert_eq!(p.when.events.len(), 4);
    let deploy = p.step("deploy").map(|s| s.when.branches.patterns.clone());
    assert_eq!(deploy, Some(vec!["main".to_owned()]));

    let backend = files(&["services/backend/src/main.rs"]);
    assert_eq!(p.when.check(&push("main", &backend)), Ok(()));
    assert_eq!(p.when.check(&push("release/1.2", &backend)), Ok(()));
    // `*` stops at a slash in branch names too.
    let nested = p.when.check(&push("release/1.2/hotfix", &backend));
    assert_eq!(nested.map_err(|e| e.rule()), Err("branch"));
    let docs = files(&["services/backend/README.md", "docs/index.md"]);
    let excluded = p.when.check(&push("main", &docs)).unwrap_err();
    assert_eq!(excluded.rule(), "paths");
    assert_eq!(
        excluded.to_string(),
        "none of the 2 changed files is in when.paths (include [services/backend/**, libs/common/**], exclude [**/*.md])"
    );
    let common = files(&["docs/a.md", "libs/common/lib.rs"]);
    assert_eq!(p.when.check(&push("main", &common)), Ok(()));
}

#[test]
fn the_file_names_the_pipeline_unless_name_does() {
    let source = "steps:\n  - name: a\n    run: 'true'\n";
    assert_eq!(load_ok(".kiln/api.yml", source).name, "api");
    assert_eq!(load_ok(".kiln/web.yaml", source).name, "web");
    assert_eq!(load_ok(".kiln.yml", source).name, "default");
}

#[test]
fn steps_run_in_file_order_unless_they_say_what_they_need() {
    let p = load_ok(
        ".kiln/x.yml",
        "steps:\n  - name: a\n    run: 'true'\n  - name: b\n    run: 'true'\n  - name: c\n    needs: []\n    run: 'true'\n  - name: d\n    needs: [a]\n    run: 'true'\n",
    );
    let needs: Vec<Vec<&str>> = p
        .workflow
        .tasks
        .iter()
        .map(|t| t.needs.iter().map(|(n, _)| n.as_str()).collect())
        .collect();
    assert_eq!(needs, [vec![], vec!["a"], vec![], vec!["a"]]);
}

#[test]
fn a_step_status_is_its_trigger_rule() {
    let p = load_ok(
        ".kiln/x.yml",
        "steps:\n  - name: build\n    run: make\n  - name: notify\n    run: ./notify\n    when: { status: failure }\n  - name: clean\n    run: ./clean\n    when:\n      status: always\n",
    );
    let rules: Vec<TriggerRule> = p.workflow.tasks.iter().map(|t| t.trigger_rule).collect();
    assert_eq!(
        rules,
        [
            TriggerRule::AllSuccess,
            TriggerRule::OneFailed,
            TriggerRule::AllDone
        ]
    );
}

#[test]
fn mistakes_are_named_with_line_and_column() {
    let errors = errors_of(
        "when:\n  event: [push, commit]\n  branch: ['[main']\nsteps:\n  - name: a\n    run: 'true'\n    colour: red\n  - name: a\n    run: 'true'\n  - run: 'true'\n  - name: 'has space'\n    run: 'true'\n  - name: z\n    run: 'true'\n    trigger_rule: all_done\n    when: { status: always }\n  - name: art\n    run: 'true'\n    artifacts: [../../etc/passwd, /abs]\n  - name: n\n    needs: [ghost]\n    run: 'true'\n",
    );
    let joined = errors.join("\n");
    for expected in [
        "line 2, column 17: when.event: unknown event \"commit\"",
        "line 3, column 12: when.branch: \"[main\" is not a valid pattern",
        "line 7, column 5: unknown key \"colour\" in step a",
        "line 8, column 5: two steps are named \"a\"",
        "line 10, column 5: a step needs name:",
        "line 11, column 11: step name \"has space\" must be",
        "line 13, column 5: step z has both trigger_rule: and when.status:",
        "line 19, column 17: artifacts: \"../../etc/passwd\" must be a path inside the checkout",
        "line 19, column 35: artifacts: \"/abs\" must be a path inside the checkout",
        "line 21, column 13: step n needs \"ghost\", which is not a step here",
    ] {
        assert!(joined.contains(expected), "{expected}\nnot in:\n{joined}");
    }
}

#[test]
fn a_pipeline_needs_steps() {
    assert_eq!(
        errors_of("name: x\n"),
        ["line 1, column 1: a pipeline needs steps:"]
    );
    assert!(errors_of("steps: {a: 1}\n")[0].contains("steps: must be a list"));
    assert!(
        errors_of(
            "concurrency: {cancel_in_progress: true}\nsteps:\n  - name: a\n    run: 'true'\n"
        )[0]
        .contains("concurrency needs group:")
    );
}

#[test]
fn concurrency_is_read() {
    let p = load_ok(
        ".kiln/x.yml",
        "concurrency:\n  group: 'deploy-{{ branch }}'\n  cancel_in_progress: true\nsteps:\n  - name: a\n    run: 'true'\n",
    );
    assert_eq!(
        p.concurrency,
        Some(Concurrency {
            group: "deploy-{{ branch }}".into(),
            cancel_in_progress: true
        })
    );
    let errors = errors_of(
        "concurrency:\n  group: 'deploy-{{ secrets.TOKEN }}'\nsteps:\n  - name: a\n    run: 'true'\n",
    );
    assert_eq!(
        errors,
        [
            "line 2, column 10: concurrency.group: unknown {{ secrets.TOKEN }}; a group may use branch, tag, event, pipeline"
        ]
    );
    assert!(
        errors_of("concurrency: {group: 'a-{{ branch'}\nsteps:\n  - name: a\n    run: 'true'\n")[0]
            .contains("is not closed")
    );
}

#[test]
fn tags_ignore_branch_filters_and_need_tag_filters() {
    let p = load_ok(
        ".kiln/x.yml",
        "when:\n  branch: main\n  tag: 'v*'\nsteps:\n  - name: a\n    run: 'true'\n",
    );
    let tag = |t| Change {
        event: EventKind::Tag,
        branch: None,
        tag: Some(t),
        paths: None,
    };
    assert_eq!(p.when.check(&tag("v1.0")), Ok(()));
    assert_eq!(
        p.when.check(&tag("nightly")).map_err(|e| e.rule()),
        Err("tag")
    );
    // A pipeline with tag: runs for tags only.
    let err = p.when.check(&push("main", &[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the event is not a tag and when.tag is [v*]"
    );
}

#[test]
fn events_and_paths_decide_in_order() {
    let p = load_ok(
        ".kiln/x.yml",
        "when:\n  event: push\n  paths: ['services/a/**']\nsteps:\n  - name: a\n    run: 'true'\n",
    );
    let pr = Change {
        event: EventKind::PullRequest,
        branch: Some("main"),
        tag: None,
        paths: Some(&[]),
    };
    assert_eq!(
        p.when.check(&pr).unwrap_err().to_string(),
        "event pull_request is not in when.event [push]"
    );
    assert_eq!(
        p.when.check(&push("x", &[])).unwrap_err().to_string(),
        "no file changed, and when.paths asks for changed files"
    );
    let a = files(&["services/a/x/y/z.rs"]);
    assert_eq!(p.when.check(&push("x", &a)), Ok(()));
    // Paths are not evaluated for a manual start.
    let manual = Change {
        event: EventKind::Push,
        branch: Some("x"),
        tag: None,
        paths: None,
    };
    assert_eq!(p.when.check(&manual), Ok(()));
}

#[test]
fn a_bare_paths_list_is_the_include_list() {
    let p = load_ok(
        ".kiln/x.yml",
        "when:\n  paths:\n    exclude: ['**/*.md']\nsteps:\n  - name: a\n    run: 'true'\n",
    );
    let docs = files(&["README.md", "docs/x.md"]);
    assert_eq!(
        p.when.check(&push("main", &docs)).unwrap_err().to_string(),
        "none of the 2 changed files is in when.paths (all excluded by [**/*.md])"
    );
    let code = files(&["README.md", "src/lib.rs"]);
    assert_eq!(p.when.check(&push("main", &code)), Ok(()));
}

#[test]
fn skip_ci_markers_in_any_case() {
    assert!(skips_ci("fix typo [skip ci]"));
    assert!(skips_ci("[CI SKIP] docs"));
    assert!(!skips_ci("skip ci please"));
}

#[test]
fn pipeline_files_are_found_by_path() {
    for yes in [".kiln.yml", ".kiln/a.yml", ".kiln/b.yaml"] {
        assert!(is_pipeline_file(yes), "{yes}");
    }
    for no in [
        ".kiln/sub/a.yml",
        ".kiln/a.txt",
        "kiln.yml",
        ".kiln/.hidden.yml",
        "x/.kiln.yml",
    ] {
        assert!(!is_pipeline_file(no), "{no}");
    }
}

#[test]
fn hostile_files_are_refused_not_crashed_on() {
    let deep = format!("steps:\n{}", "- ".repeat(5000));
    assert!(load(".kiln/x.yml", &deep, &Limits::default()).is_err());
    let wide = format!(
        "when:\n  branch: [{}]\nsteps:\n  - name: a\n    run: 'true'\n",
        vec!["'**/**/**/**/**'"; 500].join(", ")
    );
    let p = load_ok(".kiln/x.yml", &wide);
    // Globs compile to automata: a long name costs linear time, whatever
    // the patterns.
    let long = "a/".repeat(1000) + "b";
    assert_eq!(p.when.check(&push(&long, &[])), Ok(()));
}
