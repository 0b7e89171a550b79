//! Which files an event changed, asked of git in the mirror, with no limit
//! on files or commits: a push diffs `before..after`; a new branch diffs
//! against its merge base with the default branch; a force push whose
//! `before` is not an ancestor of `after` (or is unknown here) diffs against
//! the merge base of the two (or with the default branch); a pull request
//! diffs against its merge base with the target branch. Histories with
//! nothing in common, and the default branch's first push, count every
//! file as changed.

use crate::ServiceError;
use crate::engine::mirror::Mirror;

/// What to compare.
#[derive(Debug, Clone)]
pub enum Compare<'a> {
    Push {
        /// The pushed branch.
        branch: &'a str,
        before: Option<&'a str>,
        after: &'a str,
    },
    PullRequest {
        target_branch: &'a str,
        head: &'a str,
    },
}

/// The changed files, and the commit they were compared against (`None`
/// when every file counts).
pub async fn changed_files(
    mirror: &Mirror,
    default_branch: &str,
    compare: Compare<'_>,
) -> Result<(Vec<String>, Option<String>), ServiceError> {
    let (base, head) = match compare {
        Compare::Push {
            before: Some(before),
            after,
            ..
        } if mirror.has_commit(before).await => {
            if mirror.is_ancestor(before, after).await {
                (Some(before.to_owned()), after)
            } else {
                (mirror.merge_base(before, after).await, after)
            }
        }
        // The default branch's first push, or one whose `before` this
        // mirror never saw: there is no other branch to compare with, so
        // every file counts.
        Compare::Push { branch, after, .. } if branch == default_branch => (None, after),
        // A new branch: what it adds to the default branch (nothing, when
        // it holds no commits of its own).
        Compare::Push { after, .. } => (base_on_branch(mirror, default_branch, after).await, after),
        Compare::PullRequest {
            target_branch,
            head,
        } => (base_on_branch(mirror, target_branch, head).await, head),
    };
    let files = match &base {
        Some(base) => mirror.changed(base, head).await?,
        None => mirror.all_files(head).await?,
    };
    Ok((files, base))
}

async fn base_on_branch(mirror: &Mirror, branch: &str, head: &str) -> Option<String> {
    let tip = mirror.branch_head(branch).await?;
    mirror.merge_base(&tip, head).await
}
