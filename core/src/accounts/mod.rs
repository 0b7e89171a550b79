//! Account rules that hold before anything is stored: what a username, a
//! password and a slug may look like.

pub mod password;
pub mod slug;
pub mod username;

pub use password::{PasswordError, check_password};
pub use slug::{Slug, SlugError};
pub use username::{Username, UsernameError};
