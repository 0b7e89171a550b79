//! Account rules that hold before anything is stored: what a username, a
//! password and a slug may look like, and which group moves keep the tree a
//! tree.

pub mod format_chars;
pub mod names;
pub mod password;
pub mod registration;
pub mod slug;
pub mod token;
pub mod tree;
pub mod username;

pub use format_chars::{find_format_char, is_format_char};
pub use names::{NameError, check_description, check_name};
pub use password::{PasswordError, check_password};
pub use registration::{RegistrationMode, SignUp, sign_up};
pub use slug::{Slug, SlugError};
pub use token::{TOKEN_PREFIX, looks_like_token, token_hint};
pub use tree::{
    FullPath, MAX_FULL_PATH_LEN, MoveError, NodeKind, PathError, check_group_move, rebase,
};
pub use username::{Username, UsernameError};
