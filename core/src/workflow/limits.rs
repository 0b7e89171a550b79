//! What a definition file may cost to read, checked before any tree is
//! built: its size, how deep its YAML nests (a 5,000-deep sequence in 9 KiB
//! once overflowed the stack of the tree builder), and how many tasks it
//! has. The depth is measured on YAML's event stream, which is read without
//! recursion, so the check itself is bounded by the file's size.

use yaml_rust2::parser::{Event, Parser};

use super::definition::Position;
use super::error::DefinitionError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_source_bytes: usize,
    /// Mappings and sequences inside one another.
    pub max_depth: usize,
    pub max_tasks: usize,
    /// Reading a definition stored earlier (a run's): rules added since it
    /// was accepted do not make it unreadable.
    pub stored: bool,
}

pub const DEFAULT_MAX_TASKS: usize = 2000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_source_bytes: 1024 * 1024,
            max_depth: 64,
            max_tasks: DEFAULT_MAX_TASKS,
            stored: false,
        }
    }
}

/// Refuses a source that is too large or nests too deep, at the place
/// where it goes too deep. YAML syntax errors are left to the parser.
pub fn check_source(source: &str, limits: &Limits) -> Result<(), DefinitionError> {
    if source.len() > limits.max_source_bytes {
        return Err(DefinitionError::new(
            Position { line: 1, column: 1 },
            format!(
                "the file is {} bytes; at most {} are accepted",
                source.len(),
                limits.max_source_bytes
            ),
        ));
    }
    let mut parser = Parser::new_from_str(source);
    let mut depth = 0usize;
    loop {
        let Ok((event, marker)) = parser.next_token() else {
            return Ok(());
        };
        match event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(DefinitionError::new(
                        Position {
                            line: marker.line(),
                            column: marker.col() + 1,
                        },
                        format!(
                            "nesting deeper than {} levels is not accepted",
                            limits.max_depth
                        ),
                    ));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_where_it_goes_too_deep() {
        // The 9 KiB attack: 5,000 block sequences, one inside the other.
        let block = format!("{}x\n", "- ".repeat(5000));
        let error = check_source(&block, &Limits::default()).unwrap_err();
        assert_eq!((error.at.line, error.at.column), (1, 129), "{error:?}");
        assert!(error.message.contains("64 levels"), "{error:?}");
        let flow = format!("a: {}{}", "[".repeat(100), "]".repeat(100));
        let error = check_source(&flow, &Limits::default()).unwrap_err();
        assert_eq!((error.at.line, error.at.column), (1, 67), "{error:?}");
        let mappings: String = (0..200)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect();
        assert!(check_source(&mappings, &Limits::default()).is_err());
    }

    #[test]
    fn ordinary_files_and_size() {
        let fine = "tasks:\n  a:\n    run: echo\n    env: { A: [1, [2, [3]]] }\n";
        assert!(check_source(fine, &Limits::default()).is_ok());
        assert!(check_source("a: [unclosed", &Limits::default()).is_ok());
        let small = Limits {
            max_source_bytes: 8,
            ..Limits::default()
        };
        let error = check_source(fine, &small).unwrap_err();
        assert!(error.message.contains("at most 8"), "{error:?}");
    }
}
