//! The server's integration tests, linked as one binary: every file here is
//! one subject (accounts, the engine, pipelines, …) run against a real
//! server and real databases. One binary instead of one per file: the server
//! and its dependencies are linked once, which is most of a test build's time
//! and disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;
mod shell_output;

mod accounts;
mod authorization_matrix;
mod cli;
mod commit_statuses;
mod delivery_replay;
mod engine;
mod engine_io;
mod faults;
mod fork_pull_requests;
mod hand_overs;
mod http;
mod instance_ownership;
mod job_queues;
mod node_pages;
mod page_compression;
mod pipeline_artifacts;
mod pipeline_concurrency;
mod pipeline_pages;
mod pipelines;
mod repository;
mod run_close;
mod run_events;
mod run_pages;
mod runs_across;
mod runs_live;
mod sandbox;
mod sandboxed_steps;
mod schedules;
mod schedules_exactly_once;
mod session_expiry;
mod shell;
mod short_logs;
mod site_assets;
mod step_places;
mod step_slots;
mod tree;
mod web_security;
mod webhooks;
mod worker_process;
mod workflow_editor;
