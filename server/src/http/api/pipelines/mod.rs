//! Pipelines over the API: the linked repository and its webhook secret,
//! the dry run, webhook deliveries and their replay, and starting a
//! pipeline by hand.

pub mod actions;
pub mod repository;
