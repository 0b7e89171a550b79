//! Building blocks shared by pages: the dashboard layout and its navigation,
//! page headers, empty states, forms, breadcrumbs and "denied" views.

pub mod breadcrumbs;
pub mod code_editor;
pub mod dag;
pub mod denied;
pub mod draft_graph;
pub mod drawn_part;
pub mod empty_state;
pub mod event_stream;
pub mod forms;
pub mod layout;
pub mod live_run;
pub mod log_view;
pub mod nav;
pub mod page_header;
pub mod repository_card;
pub mod run_patch;
pub mod run_state;
pub mod run_steps;
pub mod run_table;
pub mod runs_live;
pub mod schedule_form;
pub mod sign_in_link;
pub mod theme;
pub mod version_history;
pub mod workflow_table;
