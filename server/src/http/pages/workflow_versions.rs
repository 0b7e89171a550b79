//! A workflow's saved versions for its page: the list, newest first, with
//! who saved each and when, and two of them compared line by line.

use std::collections::HashMap;

use kiln_app::runs::data::{DiffLineView, VersionCompare, VersionRow};
use kiln_core::line_diff::{self, Change};

use super::home::ago;
use crate::accounts::users;
use crate::clock::{ms_to_rfc3339, now_ms};
use crate::engine::workflows;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// The page lists this many versions, the newest.
const LISTED: u64 = 100;
/// Lines of unchanged text shown around each change.
const CONTEXT: usize = 3;
/// Past this many changed lines a comparison is not shown line by line
/// (see `line_diff`): bounded work, and memory (8 MB for the edit script,
/// a few more for the rows of at most `line_diff::MAX_LINES` lines).
const MAX_CHANGED_LINES: usize = 1_000;

/// The newest versions of workflow `workflow`.
pub async fn history(state: &AppState, workflow: i64) -> Result<Vec<VersionRow>, ApiError> {
    let db = &state.db.conn;
    let found = workflows::versions(db, workflow, LISTED).await?;
    let mut ids: Vec<i64> = found.iter().filter_map(|v| v.created_by).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i64, String> = users::names_of(db, &ids).await?;
    let now = now_ms();
    Ok(found
        .into_iter()
        .map(|v| VersionRow {
            version: v.version,
            saved_by: v
                .created_by
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default(),
            saved_at: ms_to_rfc3339(v.created_at_ms),
            ago: ago(now, v.created_at_ms),
        })
        .collect())
}

/// Versions `from` and `to` of workflow `workflow`, compared; a version
/// that does not exist is "not found".
pub async fn compare(
    state: &AppState,
    workflow: i64,
    from: i32,
    to: i32,
) -> Result<VersionCompare, ApiError> {
    let db = &state.db.conn;
    let old = workflows::version_of(db, workflow, from).await?;
    let new = workflows::version_of(db, workflow, to).await?;
    // Up to two megabytes of text: off the async threads.
    let (hunks, same_text) = tokio::task::spawn_blocking(move || {
        let hunks =
            line_diff::hunks(&old.source, &new.source, CONTEXT, MAX_CHANGED_LINES).map(|hunks| {
                hunks
                    .into_iter()
                    .map(|h| h.into_iter().map(line_view).collect())
                    .collect()
            });
        (hunks, old.source == new.source)
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(VersionCompare {
        from,
        to,
        hunks,
        same_text,
    })
}

fn line_view(line: line_diff::DiffLine<'_>) -> DiffLineView {
    DiffLineView {
        change: match line.change {
            Change::Same => ' ',
            Change::Removed => '-',
            Change::Added => '+',
        },
        old: line.old,
        new: line.new,
        text: line.text.to_owned(),
    }
}
