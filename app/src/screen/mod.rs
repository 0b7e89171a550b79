//! Screen-only rules, pure and tested without a browser: the navigation's
//! sections, where a run's graph puts each box, ANSI colours in logs and
//! search in them, the bars of a run's timeline, and times said relative
//! to now.
//! They concern how things look, so they live with the UI, not the domain.

pub mod ansi;
pub mod graph_layout;
pub mod log_search;
pub mod relative;
pub mod sections;
pub mod timeline;

pub use sections::Section;
