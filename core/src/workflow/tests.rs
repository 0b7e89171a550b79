//! The workflow format end to end: a valid file loads; each kind of mistake
//! is reported with its line and column.

use std::time::Duration;

use super::*;
use crate::engine::TriggerRule;

const DIAMOND: &str = r#"
name: release
params:
  version:
    type: string
    description: what to build
  shards:
    type: integer
    default: "4"
tasks:
  build:
    run: make VERSION={{ params.version }}
    timeout: 10m
  test:
    needs: [build]
    run: ./test --shards {{ params.shards }} {{ tasks.build.outputs.artifact }}
    retries: 3
    retry_delay: 30s
    retry_backoff: exponential
    retry_max_delay: 5m
  lint:
    needs: build
    run: make lint
  publish:
    needs: [test, lint]
    trigger_rule: none_failed
    runs_on: [linux]
    http:
      method: post
      url: https://registry.example/{{ run.id }}
      expect: [201, 202]
      timeout: 30s
"#;

fn errors(source: &str) -> Vec<String> {
    match load(source) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_diamond_with_outputs_loads() {
    let workflow = load(DIAMOND).unwrap();
    assert_eq!(workflow.name.as_deref(), Some("release"));
    let ids: Vec<&str> = workflow.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["build", "test", "lint", "publish"]);
    let test = &workflow.tasks[1];
    assert_eq!(test.retry.retries, 3);
    assert!(test.retry.exponential);
    assert_eq!(test.retry.max_delay, Some(Duration::from_secs(300)));
    let publish = &workflow.tasks[3];
    assert_eq!(publish.trigger_rule, TriggerRule::NoneFailed);
    assert_eq!(publish.runs_on, ["linux"]);
    match &publish.action {
        Action::Http(call) => {
            assert_eq!(call.method, "POST");
            assert_eq!(call.expect, [201, 202]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(workflow.params[1].kind, ParamType::Integer);
}

#[test]
fn unknown_keys_are_named_with_their_position() {
    let found = errors("tasks:\n  a:\n    run: true\n    retry: 3\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 4, column 5: unknown key \"retry\""),
        "{found:?}"
    );
    assert!(
        found[0].contains("retries"),
        "lists what is allowed: {found:?}"
    );
}

#[test]
fn unknown_needs_and_self_needs() {
    let found = errors(
        "tasks:\n  a:\n    run: x\n  b:\n    needs: [a, nope]\n    run: y\n  c:\n    needs: c\n    run: z\n",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("line 5, column 16:") && found[0].contains("\"nope\""),
        "{found:?}"
    );
    assert!(found[1].contains("needs itself"), "{found:?}");
}

#[test]
fn duplicate_task_ids() {
    let found = errors("tasks:\n  a:\n    run: x\n  a:\n    run: y\n");
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("line 4, column 3: duplicate key \"a\" (first at line 2)"),
        "{found:?}"
    );
}

#[test]
fn cycles_are_shown() {
    let found = errors(
        "tasks:\n  a:\n    needs: [c]\n    run: x\n  b:\n    needs: [a]\n    run: y\n  c:\n    needs: [b]\n    run: z\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("cycle: a -> c -> b -> a"), "{found:?}");
}

#[test]
fn bad_values_say_what_is_wrong() {
    let found = errors(
        "params:\n  n:\n    type: integer\n    default: many\ntasks:\n  a:\n    run: x\n    timeout: ten minutes\n    trigger_rule: sometimes\n    retries: -1\n",
    );
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(
        found[0].starts_with("line 4, column 14: default of n")
            && found[0].contains("not an integer"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with("line 8, column 14: timeout"),
        "{found:?}"
    );
    assert!(
        found[2].contains("unknown trigger rule \"sometimes\""),
        "{found:?}"
    );
    assert!(found[3].contains("retries must be"), "{found:?}");
}

#[test]
fn templates_name_only_params_and_upstream_tasks() {
    let found = errors(
        "params:\n  a:\n    type: string\ntasks:\n  one:\n    run: echo {{ params.b }}\n  two:\n    run: echo {{ tasks.three.outputs.x }}\n  three:\n    needs: [two]\n    run: echo {{ tasks.two.outputs.x }} {{ secret }}\n",
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].contains("params.b") && found[0].starts_with("line 5"),
        "{found:?}"
    );
    assert!(found[1].contains("three is not upstream"), "{found:?}");
    assert!(
        found[2].contains("unknown variable \"secret\""),
        "{found:?}"
    );
    let syntax = errors("tasks:\n  a:\n    run: echo {{ params.x\n");
    assert!(syntax[0].contains("template error"), "{syntax:?}");
}

#[test]
fn run_or_http_but_not_both() {
    let both = errors("tasks:\n  a:\n    run: x\n    http:\n      url: http://x\n");
    assert!(both[0].contains("both run: and http:"), "{both:?}");
    let neither = errors("tasks:\n  a:\n    retries: 1\n");
    assert!(neither[0].contains("needs run:"), "{neither:?}");
    let no_url = errors("tasks:\n  a:\n    http:\n      method: GET\n");
    assert!(no_url[0].contains("needs url:"), "{no_url:?}");
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    let found = errors("tasks:\n  a:\n    run: [unclosed\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("line "), "{found:?}");
    assert!(found[0].contains("YAML syntax"), "{found:?}");
    assert!(errors("- a\n- b\n")[0].contains("must be a mapping"));
    assert!(errors("name: x\n")[0].contains("needs tasks:"));
}

#[test]
fn a_long_chain_validates_and_the_task_cap_holds() {
    let chain = |n: usize| {
        let mut source = String::from("tasks:\n  t0:\n    run: echo 0\n");
        for i in 1..n {
            source.push_str(&format!(
                "  t{i}:\n    needs: [t{}]\n    run: echo {{{{ tasks.t{}.outputs.v }}}}\n",
                i - 1,
                i - 1
            ));
        }
        source
    };
    let workflow = load(&chain(2000)).unwrap();
    assert_eq!(workflow.tasks.len(), 2000);
    let errors = load(&chain(2001)).unwrap_err();
    assert!(errors[0].message.contains("at most 2000"), "{errors:?}");
    let roomy = super::Limits {
        max_tasks: 5000,
        ..super::Limits::default()
    };
    assert!(super::load_with(&chain(2001), &roomy).is_ok());
}

#[test]
fn a_deeply_nested_file_is_refused_not_crashed() {
    let block = "- ".repeat(5000);
    let errors = load(&format!(
        "tasks:\n  a:\n    run: echo\n    env:\n      X:\n        {block}x\n"
    ))
    .unwrap_err();
    assert!(errors[0].message.contains("nesting deeper"), "{errors:?}");
    // Flow collections past the YAML scanner's own limit: a syntax error.
    let flow = format!("tasks: {}", "[".repeat(100_000));
    assert!(load(&flow).is_err());
}

#[test]
fn a_name_with_invisible_characters_is_refused_where_it_is() {
    let found = errors("name: \"re\\u202Elease\"\ntasks:\n  a:\n    run: x\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("line 1, column 7: name must not contain invisible")
            && found[0].contains("U+202E"),
        "{found:?}"
    );
}

#[test]
fn network_is_host_or_none() {
    let workflow = load("tasks:\n  a:\n    run: x\n    network: none\n").unwrap();
    assert_eq!(workflow.tasks[0].network, crate::sandbox::Network::None);
    let found = errors("tasks:\n  a:\n    run: x\n    network: bridge\n");
    assert_eq!(
        found,
        ["line 4, column 14: network must be host or none, not \"bridge\""]
    );
}
