//! Account rules that hold before anything is stored: what a username, a
//! password and a slug may look like, and which group moves keep the tree a
//! tree.

pub mod password;
pub mod slug;
pub mod tree;
pub mod username;

pub use password::{PasswordError, check_password};
pub use slug::{Slug, SlugError};
pub use tree::{FullPath, MoveError, PathError, check_group_move};
pub use username::{Username, UsernameError};
