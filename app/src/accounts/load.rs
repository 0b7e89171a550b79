//! The server functions the accounts pages load their data with. On the
//! server they call the `AccountsPort` of the backend in
//! context; in the browser they are HTTP calls to `/ui/fn/…` (only after
//! client-side navigation: the first render's data comes with the HTML).

use leptos::prelude::*;

use super::data::*;
use crate::accounts::data::Loaded;
#[cfg(feature = "ssr")]
use crate::backend::backend_and_request;

#[server(prefix = "/ui/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<UserView>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.whoami(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "tree")]
pub async fn load_tree() -> Result<Loaded<TreePage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.tree(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "node")]
pub async fn load_node(kind: String, path: String) -> Result<Loaded<NodePage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.node(&parts, &kind, &path).await)
}

#[server(prefix = "/ui/fn", endpoint = "account")]
pub async fn load_account() -> Result<Loaded<AccountPage>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.account(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "users")]
pub async fn load_users() -> Result<Loaded<Vec<UserView>>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    Ok(backend.users(&parts).await)
}

#[server(prefix = "/ui/fn", endpoint = "operations")]
pub async fn load_operations() -> Result<Vec<OperationView>, ServerFnError> {
    let (backend, _) = backend_and_request().await?;
    Ok(backend.operations())
}
