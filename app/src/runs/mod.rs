//! Workflows and their runs in one project: the editor, the workflow list,
//! the runs list, one run, and pieces of a step's log.

pub mod data;
pub mod drawn;
pub mod load;
#[cfg(feature = "ssr")]
pub mod port;
