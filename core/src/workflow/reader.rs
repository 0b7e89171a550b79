//! Reading YAML into typed values, shared by the workflow and pipeline
//! parsers: the tree with positions (duplicate keys, anchors and tags
//! refused), and a [`Reader`] that checks keys and types and collects every
//! error with its line and column.

use std::collections::BTreeMap;
use std::time::Duration;

use marked_yaml::{LoadError, LoaderOptions, Node, Span, parse_yaml_with_options};

use super::definition::Position;
use super::duration::parse_duration;
use super::error::DefinitionError;
use crate::accounts::format_chars::{code_point, find_format_char};

/// The file's tree, its top a mapping. `Err` when the YAML is unreadable.
pub fn load(source: &str) -> Result<Node, DefinitionError> {
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .toplevel_mapping();
    parse_yaml_with_options(0, source, options).map_err(|e| load_error(&e))
}

pub fn position(span: &Span) -> Position {
    span.start().map_or(Position::default(), |m| Position {
        line: m.line(),
        column: m.column(),
    })
}

pub fn at(node: &Node) -> Position {
    position(node.span())
}

/// Where a node begins as a reader sees it: a mapping at its first key
/// (its own span starts at the first colon).
pub fn start_of(node: &Node) -> Position {
    node.as_mapping()
        .and_then(|m| m.iter().next())
        .map_or_else(|| at(node), |(key, _)| position(key.span()))
}

fn load_error(error: &LoadError) -> DefinitionError {
    let (marker, message) = match error {
        LoadError::TopLevelMustBeMapping(m) => (
            m,
            "the file must be a mapping (name:, tasks:, …)".to_owned(),
        ),
        LoadError::TopLevelMustBeSequence(m) => (m, "unexpected sequence at the top".to_owned()),
        LoadError::UnexpectedAnchor(m) => (m, "YAML anchors are not supported".to_owned()),
        LoadError::MappingKeyMustBeScalar(m) => (m, "keys must be plain names".to_owned()),
        LoadError::UnexpectedTag(m) => (m, "YAML tags are not supported".to_owned()),
        LoadError::ScanError(m, e) => (m, format!("YAML syntax: {}", e.info())),
        LoadError::DuplicateKey(inner) => {
            let prev = position(inner.prev_key.span());
            let key = &inner.key;
            return DefinitionError::new(
                position(key.span()),
                format!(
                    "duplicate key {:?} (first at line {})",
                    key.as_str(),
                    prev.line
                ),
            );
        }
    };
    DefinitionError::new(
        Position {
            line: marker.line(),
            column: marker.column(),
        },
        message,
    )
}

/// Reads YAML nodes into typed values, collecting every error on the way
/// (each with its position) instead of stopping at the first.
#[derive(Default)]
pub struct Reader {
    pub errors: Vec<DefinitionError>,
    /// A stored definition: rules newer than it are not checked.
    pub stored: bool,
}

impl Reader {
    pub fn error(&mut self, at: Position, message: impl Into<String>) {
        self.errors.push(DefinitionError::new(at, message));
    }

    /// The mapping's entries, after reporting keys not in `allowed`.
    pub fn entries<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Vec<(&'n str, Position, &'n Node)> {
        let Some(map) = node.as_mapping() else {
            self.error(at(node), format!("{what} must be a mapping"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in map.iter() {
            let pos = position(key.span());
            if !allowed.is_empty() && !allowed.contains(&key.as_str()) {
                self.error(
                    pos,
                    format!(
                        "unknown key {:?} in {what}; expected one of: {}",
                        key.as_str(),
                        allowed.join(", ")
                    ),
                );
                continue;
            }
            out.push((key.as_str(), pos, value));
        }
        out
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.as_scalar() {
            Some(s) => Some(s.as_str().to_owned()),
            None => {
                self.error(at(node), format!("{what} must be a single value"));
                None
            }
        }
    }

    /// The workflow's `name:`, shown on pages: no invisible format characters.
    pub fn display_name(&mut self, node: &Node) -> Option<String> {
        let name = self.string(node, "name")?;
        match find_format_char(&name) {
            Some(c) => {
                self.error(
                    at(node),
                    format!(
                        "name must not contain invisible formatting characters (found {})",
                        code_point(c)
                    ),
                );
                None
            }
            None => Some(name),
        }
    }

    pub fn duration(&mut self, node: &Node, what: &str) -> Option<Duration> {
        let raw = self.string(node, what)?;
        match parse_duration(&raw) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(at(node), format!("{what}: {e}"));
                None
            }
        }
    }

    pub fn list(&mut self, node: &Node, what: &str) -> Vec<(String, Position)> {
        if let Some(one) = node.as_scalar() {
            return vec![(one.as_str().to_owned(), at(node))];
        }
        let Some(seq) = node.as_sequence() else {
            self.error(at(node), format!("{what} must be a list"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in seq.iter() {
            if let Some(value) = self.string(item, what) {
                out.push((value, at(item)));
            }
        }
        out
    }

    /// A step's `env:`: a string map whose names may not steer the
    /// dynamic loader (see [`crate::sandbox::steers_loader`]).
    pub fn env_map(&mut self, node: &Node, what: &str) -> BTreeMap<String, String> {
        let map = self.string_map(node, what);
        if self.stored {
            return map;
        }
        for (key, pos, _) in self.entries(node, what, &[]) {
            if crate::sandbox::steers_loader(key) {
                self.error(
                    pos,
                    format!(
                        "{what}.{key}: variables that steer the dynamic loader (LD_*, MALLOC_*, \
                         GLIBC_TUNABLES, GCONV_PATH, …) cannot be given to a step; export it \
                         inside the script instead"
                    ),
                );
            }
        }
        map
    }

    pub fn string_map(&mut self, node: &Node, what: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (key, _, value) in self.entries(node, what, &[]) {
            if let Some(value) = self.string(value, &format!("{what}.{key}")) {
                out.insert(key.to_owned(), value);
            }
        }
        out
    }
}
