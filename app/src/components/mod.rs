//! Building blocks shared by pages: the dashboard layout and its navigation,
//! page headers and empty states.

pub mod empty_state;
pub mod layout;
pub mod nav;
pub mod page_header;
