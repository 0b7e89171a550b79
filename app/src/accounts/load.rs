//! The server functions the accounts pages load their data with. On the
//! server they call the `AccountsPort` in context (see `port_context`); in the
//! browser they are HTTP calls to `/ui/fn/…` (only after client-side
//! navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
#[cfg(feature = "ssr")]
use super::port::AccountsPort;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::port_context::port_and_request;

#[server(prefix = "/ui/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<ViewerView>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn AccountsPort>()?;
    Ok(port.whoami(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "tree")]
pub async fn load_tree() -> Result<Loaded<TreePage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn AccountsPort>()?;
    Ok(port.tree(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "node")]
pub async fn load_node(kind: String, path: String) -> Result<Loaded<NodePage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn AccountsPort>()?;
    Ok(port.node(&parts, &kind, &path).await)
}

#[server(prefix = "/ui/fn", endpoint = "account")]
pub async fn load_account() -> Result<Loaded<AccountPage>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn AccountsPort>()?;
    Ok(port.account(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "users")]
pub async fn load_users() -> Result<Loaded<Vec<UserView>>, ServerFnError> {
    let (port, parts) = port_and_request::<dyn AccountsPort>()?;
    Ok(port.users(&parts).await)
}
