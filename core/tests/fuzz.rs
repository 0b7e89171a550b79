//! Fuzzing on stable Rust: seeded random mutations of real workflow files,
//! templates and log streams thrown at the parsers and the template and
//! masking code, checking that nothing panics and that the safety rules
//! hold for every input: no value ever lands in a command's text, no secret
//! survives masking however a line is cut. Bounded by a count, so CI time is
//! fixed; `KILN_FUZZ_ITERATIONS=1000000 cargo test -p kiln-core --test fuzz
//! --release` runs it for longer, `KILN_FUZZ_SEED` picks another sequence.
//! A crash found here becomes a named regression test beside the code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use kiln_core::engine::mask::Masker;
use kiln_core::workflow::limits::{Limits, check_source};
use kiln_core::workflow::render::{RenderContext, render_command};
use kiln_core::workflow::shell_refs::{SENTINEL, place_references};
use kiln_core::workflow::{load, load_with};

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn iterations() -> usize {
    std::env::var("KILN_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

fn rng() -> Rng {
    Rng(std::env::var("KILN_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_CAFE_F00D_BEEF))
}

const SEEDS: &[&str] = &[
    "name: release\nparams:\n  v: { type: string, default: \"1\" }\ntasks:\n  build:\n    run: make {{ params.v }}\n  test:\n    needs: [build]\n    trigger_rule: all_done\n    retries: 2\n    retry_delay: 5s\n    timeout: 1m\n    run: |\n      echo \"x={{ tasks.build.outputs.y }}\" >> $KILN_OUTPUT\n",
    "tasks:\n  call:\n    http: { method: POST, url: \"https://x/{{ run.id }}\", headers: { A: b }, body: hi, expect: [200] }\n    network: none\n    runs_on: [gpu]\n    env: { K: v }\n    secrets: [TOKEN]\n",
    "tasks: { a: { run: 'true' }, b: { needs: [a], run: \"echo '{{ run.id }}'\" } }\n",
];

/// Fragments that stress YAML and the template and shell scanners.
const PIECES: &[&str] = &[
    "\n",
    " ",
    "  ",
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "`",
    "$(",
    ")",
    "<<",
    "<<-",
    "<<'EOF'\n",
    "EOF\n",
    "{{",
    "}}",
    "{%",
    "%}",
    "\\",
    "#",
    "&",
    "*a",
    "!tag",
    "---\n",
    "\t",
    "\u{202E}",
    "\u{0}",
    "é",
    "{{ params.v }}",
    "{{ run.id }}",
    "tasks:",
    "needs: [",
    "run: ",
    "http:",
    "- - - - -",
    "? ",
    "|",
    ">",
    "%",
    "@",
    "\r\n",
];

fn mutate(rng: &mut Rng, base: &str) -> String {
    let mut text: Vec<char> = base.chars().collect();
    for _ in 0..=rng.below(8) {
        let at = rng.below(text.len() + 1);
        match rng.below(4) {
            0 => {
                let piece: Vec<char> = rng.pick(PIECES).chars().collect();
                text.splice(at..at, piece);
            }
            1 if !text.is_empty() => {
                let end = (at + rng.below(12)).min(text.len());
                text.drain(at.min(end)..end);
            }
            2 => {
                let piece: Vec<char> = rng.pick(PIECES).repeat(rng.below(200)).chars().collect();
                text.splice(at..at, piece);
            }
            _ => {
                if let Some(c) = text.get_mut(at) {
                    *c = char::from_u32(rng.next() as u32 % 0x250).unwrap_or('x');
                }
            }
        }
    }
    text.into_iter().collect()
}

#[test]
fn workflow_files_never_panic_the_loader() {
    let mut rng = rng();
    let small = Limits {
        max_tasks: 50,
        ..Limits::default()
    };
    for _ in 0..iterations() {
        let seed = *rng.pick(SEEDS);
        let source = mutate(&mut rng, seed);
        let _ = check_source(&source, &Limits::default());
        let _ = load(&source);
        let _ = load_with(&source, &small);
    }
}

const PIPELINE_SEEDS: &[&str] = &[
    "name: backend\nwhen:\n  event: [push, pull_request, tag, manual]\n  branch: [main, \"release/*\"]\n  paths:\n    include: [\"services/backend/**\", \"libs/common/**\"]\n    exclude: [\"**/*.md\"]\nenv: { RUST_LOG: info }\nconcurrency: { group: 'd-{{ branch }}', cancel_in_progress: true }\nsteps:\n  - name: test\n    run: cargo test\n    timeout: 10m\n    artifacts: [target/report]\n  - name: deploy\n    needs: [test]\n    run: ./deploy.sh\n    secrets: [DEPLOY_TOKEN]\n    when: { branch: main, status: always }\n",
    "when: { tag: 'v*', paths: ['a/**', '{b,c}/[!x]*'] }\nsteps: [ { name: a, run: 'true' }, { name: b, needs: [], run: 'true' } ]\n",
];

#[test]
fn pipeline_files_never_panic_the_loader_or_the_rules() {
    use kiln_core::pipeline::{self, Change, EventKind};
    let mut rng = rng();
    let changed: Vec<String> = ["services/backend/x.rs", "README.md", "a/b/c"]
        .map(String::from)
        .to_vec();
    for _ in 0..iterations() {
        let seed = *rng.pick(PIPELINE_SEEDS);
        let source = mutate(&mut rng, seed);
        let Ok(p) = pipeline::load(".kiln/x.yml", &source, &Limits::default()) else {
            continue;
        };
        let branch = mutate(&mut rng, "release/1.2");
        for event in EventKind::ALL {
            let change = Change {
                event,
                branch: Some(&branch),
                tag: Some(&branch),
                paths: Some(&changed),
            };
            let _ = p.when.check(&change);
            for step in &p.steps {
                let _ = step.when.check(&change);
            }
        }
    }
}

#[test]
fn webhook_payloads_never_panic_the_readers() {
    use kiln_core::hooks::{Provider, verify};
    let mut rng = rng();
    let seeds = [
        r#"{"ref":"refs/heads/main","before":"1111111111111111111111111111111111111111","after":"2222222222222222222222222222222222222222","head_commit":{"message":"m","author":{"username":"u"}}}"#,
        r#"{"action":"opened","number":1,"pull_request":{"title":"t","user":{"login":"u"},"head":{"ref":"f","sha":"2222222222222222222222222222222222222222","repo":{"full_name":"a/b"}},"base":{"ref":"main","repo":{"full_name":"a/b"}}}}"#,
        r#"{"object_kind":"merge_request","user":{"username":"u"},"object_attributes":{"iid":3,"action":"update","oldrev":"x","source_branch":"f","target_branch":"main","source_project_id":1,"target_project_id":1,"last_commit":{"id":"2222222222222222222222222222222222222222","message":"m"}}}"#,
    ];
    let events = [
        ("x-gitea-event", "push"),
        ("x-gitea-event", "pull_request"),
        ("x-github-event", "push"),
        ("x-github-event", "pull_request"),
        ("x-gitlab-event", "Push Hook"),
        ("x-gitlab-event", "Merge Request Hook"),
    ];
    for _ in 0..iterations() {
        let seed = *rng.pick(&seeds);
        let body = mutate(&mut rng, seed);
        let (name, value) = *rng.pick(&events);
        let header = |h: &str| (h == name).then(|| value.to_owned());
        for provider in Provider::ALL {
            let _ = provider.read(&header, body.as_bytes());
            let _ = provider.delivery_id(&header);
            let _ = verify(provider, &header, b"secret", body.as_bytes());
        }
    }
}

#[test]
fn command_values_never_reach_the_shell_text() {
    let mut rng = rng();
    let evil = "'\"$(id)`id`;\n<<EOF\n${HOME}\\";
    let mut context = RenderContext::default();
    context.params.insert("v".into(), evil.into());
    context.run.insert("id".into(), evil.into());
    context.outputs.insert(
        "build".into(),
        BTreeMap::from([("y".to_owned(), evil.to_owned())]),
    );
    let templates = [
        "echo {{ params.v }}",
        "echo \"a {{ run.id }} b\" '{{ params.v }}'",
        "cat <<EOF\n{{ tasks.build.outputs.y }}\nEOF\n",
        "x=$(printf %s {{ params.v }}) `echo {{ run.id }}`",
    ];
    for _ in 0..iterations() {
        let seed = *rng.pick(&templates);
        let template = mutate(&mut rng, seed);
        if let Ok(command) = render_command(&template, &context) {
            assert!(
                !command.text.contains("$(id)") || template.contains("$(id)"),
                "a value reached the command text: {template:?} -> {:?}",
                command.text
            );
            assert!(!command.text.contains(SENTINEL));
        }
        let marked = mutate(&mut rng, &format!("a {SENTINEL}1{SENTINEL} b"));
        if let Ok(placed) = place_references(&marked) {
            assert!(!placed.contains(SENTINEL), "{marked:?} -> {placed:?}");
        }
    }
}

#[test]
fn secrets_never_survive_masking_however_cut() {
    let mut rng = rng();
    let secrets = ["hunter2-secret", "s3cr3t", "aaaa", "-----BEGIN-KEY-----"];
    let masker = Masker::new(secrets);
    for _ in 0..iterations() {
        let secret = *rng.pick(&secrets);
        let mut line = mutate(&mut rng, "some output line with text around it");
        let at = rng.below(line.len() + 1);
        let at = (0..=at)
            .rev()
            .find(|i| line.is_char_boundary(*i))
            .unwrap_or(0);
        line.insert_str(at, secret);
        let bytes = line.as_bytes();
        let mut carry = Vec::new();
        let mut out = Vec::new();
        let mut start = 0;
        while start < bytes.len() {
            let end = (start + 1 + rng.below(16)).min(bytes.len());
            out.extend(masker.mask_piece(&mut carry, &bytes[start..end], end == bytes.len()));
            start = end;
        }
        out.extend(masker.mask_piece(&mut carry, b"", true));
        let out = String::from_utf8_lossy(&out);
        for s in secrets {
            assert!(
                !out.contains(s),
                "{s:?} survived in {out:?} (from {line:?})"
            );
        }
    }
}
