//! The dashboard's top-level sections, in navigation order. Shared by the
//! server-rendered layout and the browser so links never drift apart.

/// One entry of the main navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Projects,
    Runs,
    Workflows,
    Schedules,
    Admin,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Projects,
        Section::Runs,
        Section::Workflows,
        Section::Schedules,
        Section::Admin,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Section::Projects => "Projects",
            Section::Runs => "Runs",
            Section::Workflows => "Workflows",
            Section::Schedules => "Schedules",
            Section::Admin => "Admin",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Section::Projects => "/projects",
            Section::Runs => "/runs",
            Section::Workflows => "/workflows",
            Section::Schedules => "/schedules",
            Section::Admin => "/admin",
        }
    }

    /// The section a request path belongs to, for highlighting the current link.
    pub fn of_path(path: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| {
            let p = s.path();
            path == p
                || path
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_has_a_distinct_path_and_label() {
        let mut paths: Vec<_> = Section::ALL.iter().map(|s| s.path()).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), Section::ALL.len());
        assert!(Section::ALL.iter().all(|s| !s.label().is_empty()));
    }

    #[test]
    fn paths_map_back_to_their_section() {
        assert_eq!(Section::of_path("/runs"), Some(Section::Runs));
        assert_eq!(Section::of_path("/runs/42"), Some(Section::Runs));
        assert_eq!(Section::of_path("/runsx"), None);
        assert_eq!(Section::of_path("/"), None);
        assert_eq!(Section::of_path("/admin/users"), Some(Section::Admin));
    }
}
