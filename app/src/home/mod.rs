//! Across projects: the home page, every run the viewer can see, and every
//! workflow with its newest run.

pub mod data;
pub mod load;
#[cfg(feature = "ssr")]
pub mod port;
