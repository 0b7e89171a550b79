//! Where a `{{ … }}` value lands in a `run:` command, and what it becomes
//! there. Values are never written into the command: each one becomes a
//! reference to an environment variable holding it, so the shell expands it
//! as data and never parses it, whatever quotes, heredocs or command
//! substitutions the author wrapped around the template. The quoting context
//! of each spot only decides how the reference is spelled so the value
//! arrives as one word with its text intact:
//! - outside quotes (also inside `$(…)` and backticks): `"${VAR}"`;
//! - inside double quotes or an unquoted heredoc: `${VAR}`;
//! - inside single quotes and comments: `${VAR}` stays literal. A
//!   single-quoted string is usually code for something else (`trap`,
//!   `sh -c`, `sed`, `awk`): splicing a value into it would let that
//!   program parse the value; a shell that later runs the string expands
//!   the (exported) variable as data instead;
//! - inside a quoted heredoc (`<<'EOF'`) nothing expands, by the author's
//!   choice: the reference stays literal text there;
//! - inside `$(( … ))` a value is refused: bash evaluates a variable's
//!   text in arithmetic as an expression, array subscripts and `$(…)`
//!   included.
//!
//! The value itself never enters the text, whatever the tracker decides; a
//! misjudged context changes how the reference is quoted (word splitting),
//! which is why comments, heredocs at any depth and arithmetic are tracked.

/// Marks a value's spot in rendered text: `SENTINEL`, index, `SENTINEL`.
pub const SENTINEL: char = '\0';

/// The environment variable holding the `index`-th value (from 1).
pub fn value_variable(index: usize) -> String {
    format!("KILN_VALUE_{index}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Top level, or inside `$(…)` (with its own parenthesis depth).
    Plain {
        parens: u32,
    },
    Single,
    Double,
    Backtick,
    /// `$(( … ))`, with its own parenthesis depth.
    Arithmetic {
        parens: u32,
    },
}

/// Why a command cannot be made safe.
pub const IN_ARITHMETIC: &str = "a {{ … }} value inside $(( … )) is refused: shells evaluate \
     it as an expression (bash runs $(…) in array subscripts); assign it to a variable, check \
     it is a number, and use the variable";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
    quoted: bool,
}

/// Replaces each sentinel in `rendered` by the reference to its variable;
/// refuses a value where no reference is safe.
pub fn place_references(rendered: &str) -> Result<String, String> {
    let chars: Vec<char> = rendered.chars().collect();
    let mut out = String::with_capacity(rendered.len());
    let mut stack = vec![Context::Plain { parens: 0 }];
    let mut pending: Vec<Heredoc> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == SENTINEL {
            let (index, next) = read_index(&chars, i + 1);
            let context = *stack.last().unwrap_or(&Context::Single);
            if matches!(context, Context::Arithmetic { .. }) {
                return Err(IN_ARITHMETIC.to_owned());
            }
            out.push_str(&reference(index, context));
            i = next;
            continue;
        }
        let top = *stack.last().unwrap_or(&Context::Plain { parens: 0 });
        match top {
            Context::Single => {
                if c == '\'' {
                    stack.pop();
                }
            }
            Context::Arithmetic { parens } => match c {
                '(' => set_depth(&mut stack, parens + 1),
                ')' if parens > 0 => set_depth(&mut stack, parens - 1),
                ')' if chars.get(i + 1) == Some(&')') => {
                    out.push_str("))");
                    stack.pop();
                    i += 2;
                    continue;
                }
                _ => {}
            },
            Context::Double | Context::Backtick | Context::Plain { .. } => {
                if c == '\\' {
                    out.push(c);
                    if let Some(&next) = chars.get(i + 1)
                        && next != SENTINEL
                    {
                        out.push(next);
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                if c == '$' && chars[i + 1..].starts_with(&['(', '(']) {
                    out.push_str("$((");
                    stack.push(Context::Arithmetic { parens: 0 });
                    i += 3;
                    continue;
                }
                if c == '$' && chars.get(i + 1) == Some(&'(') {
                    out.push_str("$(");
                    stack.push(Context::Plain { parens: 0 });
                    i += 2;
                    continue;
                }
                if c == '#'
                    && matches!(top, Context::Plain { .. })
                    && (i == 0 || chars[i - 1].is_whitespace() || ";&|(".contains(chars[i - 1]))
                {
                    i = copy_comment(&chars, i, &mut out);
                    continue;
                }
                match (top, c) {
                    (Context::Double, '"') | (Context::Backtick, '`') => {
                        stack.pop();
                    }
                    (Context::Double, '`') => stack.push(Context::Backtick),
                    (Context::Double, _) => {}
                    (_, '\'') => stack.push(Context::Single),
                    (_, '"') => stack.push(Context::Double),
                    (Context::Plain { .. }, '`') => stack.push(Context::Backtick),
                    (Context::Plain { parens }, '(') => set_depth(&mut stack, parens + 1),
                    (Context::Plain { parens }, ')') => {
                        if parens == 0 {
                            if stack.len() > 1 {
                                stack.pop();
                            }
                        } else {
                            set_depth(&mut stack, parens - 1);
                        }
                    }
                    (Context::Plain { .. }, '<') if chars[i..].starts_with(&['<', '<', '<']) => {
                        out.push_str("<<<");
                        i += 3;
                        continue;
                    }
                    (Context::Plain { .. }, '<') if heredoc_start(&chars, i) => {
                        let (heredoc, next) = read_heredoc(&chars, i);
                        out.extend(&chars[i..next]);
                        pending.push(heredoc);
                        i = next;
                        continue;
                    }
                    (Context::Plain { .. }, '\n') if !pending.is_empty() => {
                        out.push('\n');
                        i = copy_heredoc_bodies(&chars, i + 1, &mut pending, &mut out);
                        continue;
                    }
                    _ => {}
                }
            }
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// Sets the parenthesis depth of the innermost `$(…)` or `$((…))`.
fn set_depth(stack: &mut [Context], parens: u32) {
    if let Some(top) = stack.last_mut() {
        *top = match top {
            Context::Arithmetic { .. } => Context::Arithmetic { parens },
            _ => Context::Plain { parens },
        };
    }
}

/// Copies a comment up to its newline; references in it stay literal.
fn copy_comment(chars: &[char], from: usize, out: &mut String) -> usize {
    let mut i = from;
    while i < chars.len() && chars[i] != '\n' {
        if chars[i] == SENTINEL {
            let (index, next) = read_index(chars, i + 1);
            out.push_str(&format!("${{{}}}", value_variable(index)));
            i = next;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    i
}

fn reference(index: usize, context: Context) -> String {
    let var = value_variable(index);
    match context {
        Context::Plain { .. } | Context::Backtick => format!("\"${{{var}}}\""),
        Context::Double | Context::Single | Context::Arithmetic { .. } => format!("${{{var}}}"),
    }
}

fn read_index(chars: &[char], from: usize) -> (usize, usize) {
    let mut index = 0usize;
    let mut i = from;
    while i < chars.len() && chars[i] != SENTINEL {
        index = index
            .saturating_mul(10)
            .saturating_add(chars[i].to_digit(10).unwrap_or(0) as usize);
        i += 1;
    }
    (index, (i + 1).min(chars.len()))
}

/// `<<` that is not `<<<` (a here-string is a plain word).
fn heredoc_start(chars: &[char], i: usize) -> bool {
    chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<')
}

/// Reads `<<[-] WORD` from `i`; returns the heredoc and where it ends.
fn read_heredoc(chars: &[char], i: usize) -> (Heredoc, usize) {
    let mut j = i + 2;
    let strip_tabs = chars.get(j) == Some(&'-');
    if strip_tabs {
        j += 1;
    }
    while matches!(chars.get(j), Some(' ' | '\t')) {
        j += 1;
    }
    let mut delimiter = String::new();
    let mut quoted = false;
    while let Some(&c) = chars.get(j) {
        // A value as (part of) the delimiter ends the word here: the value
        // is placed like any other, the heredoc ends at the literal part.
        if c.is_whitespace() || matches!(c, ';' | '&' | '|' | '<' | '>' | '(' | ')' | SENTINEL) {
            break;
        }
        if matches!(c, '\'' | '"' | '\\') {
            quoted = true;
        } else {
            delimiter.push(c);
        }
        j += 1;
    }
    (
        Heredoc {
            delimiter,
            strip_tabs,
            quoted,
        },
        j,
    )
}

/// Copies the bodies of the pending heredocs, which start at `from`,
/// placing references as an unquoted (expanding) or quoted body sees them;
/// returns where the text after the last delimiter line starts.
fn copy_heredoc_bodies(
    chars: &[char],
    from: usize,
    pending: &mut Vec<Heredoc>,
    out: &mut String,
) -> usize {
    let mut i = from;
    for heredoc in pending.drain(..) {
        loop {
            if i >= chars.len() {
                return i;
            }
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            let line: String = chars[i..end].iter().collect();
            let bare = if heredoc.strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line.as_str()
            };
            let last = bare == heredoc.delimiter;
            let mut k = i;
            while k < end {
                if chars[k] == SENTINEL {
                    let (index, next) = read_index(chars, k + 1);
                    out.push_str(&format!("${{{}}}", value_variable(index)));
                    k = next;
                } else {
                    out.push(chars[k]);
                    k += 1;
                }
            }
            if end < chars.len() {
                out.push('\n');
            }
            i = end + 1;
            if last {
                break;
            }
        }
    }
    i.min(chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(n: usize) -> String {
        format!("{SENTINEL}{n}{SENTINEL}")
    }

    #[test]
    fn each_context_gets_its_spelling() {
        let cases = [
            (format!("echo {}", mark(1)), r#"echo "${KILN_VALUE_1}""#),
            (
                format!("echo \"a {} b\"", mark(1)),
                r#"echo "a ${KILN_VALUE_1} b""#,
            ),
            (
                format!("echo 'a {} b'", mark(2)),
                r#"echo 'a ${KILN_VALUE_2} b'"#,
            ),
            (
                format!("trap 'rm -rf {}' EXIT", mark(1)),
                r#"trap 'rm -rf ${KILN_VALUE_1}' EXIT"#,
            ),
            (
                format!("# don't\n[ {} = x ]", mark(1)),
                "# don't\n[ \"${KILN_VALUE_1}\" = x ]",
            ),
            (
                format!("a=1 # {}\necho {}", mark(1), mark(2)),
                "a=1 # ${KILN_VALUE_1}\necho \"${KILN_VALUE_2}\"",
            ),
            (
                format!("echo $((1 + 2)) {}", mark(1)),
                r#"echo $((1 + 2)) "${KILN_VALUE_1}""#,
            ),
            (
                format!("v=$(cat <<EOF\nx'\nEOF\n)\nrm -f {}", mark(1)),
                "v=$(cat <<EOF\nx'\nEOF\n)\nrm -f \"${KILN_VALUE_1}\"",
            ),
            (
                format!("echo \"$(basename {})\"", mark(1)),
                r#"echo "$(basename "${KILN_VALUE_1}")""#,
            ),
            (
                format!("echo `cat {}`", mark(1)),
                r#"echo `cat "${KILN_VALUE_1}"`"#,
            ),
            (
                format!("echo \"it's\" {}", mark(1)),
                r#"echo "it's" "${KILN_VALUE_1}""#,
            ),
            (
                format!("echo \\' {}", mark(1)),
                r#"echo \' "${KILN_VALUE_1}""#,
            ),
            (
                format!("echo $( (cd x) ) {}", mark(1)),
                r#"echo $( (cd x) ) "${KILN_VALUE_1}""#,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(place_references(&input).unwrap(), expected, "{input:?}");
        }
    }

    #[test]
    fn values_in_arithmetic_are_refused() {
        for input in [
            format!("echo $(( {} + 1 ))", mark(1)),
            format!("echo $(( (2 * {}) ))", mark(1)),
        ] {
            assert_eq!(place_references(&input).unwrap_err(), IN_ARITHMETIC);
        }
    }

    #[test]
    fn heredoc_bodies_expand_without_quotes() {
        let input = format!(
            "cat <<EOF > f\nname: {}\nit's fine\nEOF\necho {}\ncat <<'RAW'\n{}\nRAW\n",
            mark(1),
            mark(2),
            mark(3)
        );
        assert_eq!(
            place_references(&input).unwrap(),
            "cat <<EOF > f\nname: ${KILN_VALUE_1}\nit's fine\nEOF\necho \"${KILN_VALUE_2}\"\ncat <<'RAW'\n${KILN_VALUE_3}\nRAW\n"
        );
        let tabs = format!("cat <<-END\n\t{}\n\tEND\necho {}", mark(1), mark(2));
        assert_eq!(
            place_references(&tabs).unwrap(),
            "cat <<-END\n\t${KILN_VALUE_1}\n\tEND\necho \"${KILN_VALUE_2}\""
        );
        assert_eq!(
            place_references(&format!("tr a b <<< {}", mark(1))).unwrap(),
            r#"tr a b <<< "${KILN_VALUE_1}""#
        );
    }

    #[test]
    fn unbalanced_text_never_panics() {
        for input in [
            format!("echo \"{}", mark(1)),
            format!("echo '{}", mark(1)),
            format!("echo $({}", mark(1)),
            format!("echo ) ) {}", mark(1)),
            format!("cat <<EOF\n{}", mark(1)),
            format!("cat << \n{}", mark(1)),
            format!("x \\{}", mark(1)),
            // Found by the fuzzer: a value as a heredoc delimiter.
            format!("cat <<-{} b", mark(1)),
            format!("cat <<x{}\nbody\nx", mark(2)),
            "\0".to_owned(),
            format!("{SENTINEL}123"),
        ] {
            if let Ok(out) = place_references(&input) {
                assert!(!out.contains(SENTINEL), "{input:?} -> {out:?}");
            }
        }
    }
}
