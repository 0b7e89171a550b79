//! Screen-only rules, pure and tested without a browser: the navigation's
//! sections, where a run's graph puts each box, ANSI colours in logs, and
//! times said relative to now.
//! They concern how things look, so they live with the UI, not the domain.

pub mod ansi;
pub mod graph_layout;
pub mod relative;
pub mod sections;

pub use sections::Section;
