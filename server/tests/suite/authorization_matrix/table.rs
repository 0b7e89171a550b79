//! The matrix's table: what each caller kind must get on every `/api/v1`
//! operation, and the list of operations it covers.

/// What each persona must get, by `METHOD /api/v1/path`. `ok` is any 2xx.
/// The group is private, the project inside it; viewer, developer and
/// maintainer hold their role on the group; tokens belong to the owner.
pub(super) fn expectations(route: &str) -> Option<[&'static str; 10]> {
    //            anon   view   dev    maint  owner  admin  other  expired revoked read
    let everyone = ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "401", "401", "ok"];
    let signed_in = [
        "401", "ok", "ok", "ok", "ok", "ok", "ok", "401", "401", "ok",
    ];
    let session_only_write = [
        "401", "ok", "ok", "ok", "ok", "ok", "ok", "401", "401", "403",
    ];
    let view = [
        "401", "ok", "ok", "ok", "ok", "ok", "404", "401", "401", "ok",
    ];
    let maintain = [
        "401", "403", "403", "ok", "ok", "ok", "404", "401", "401", "403",
    ];
    let develop = [
        "401", "403", "ok", "ok", "ok", "ok", "404", "401", "401", "403",
    ];
    let own = [
        "401", "403", "403", "403", "ok", "ok", "404", "401", "401", "403",
    ];
    Some(match route {
        "GET /api/v1/version" | "GET /api/v1/openapi.json" => everyone,
        "POST /api/v1/auth/register" | "POST /api/v1/auth/login" => everyone,
        "POST /api/v1/auth/logout" => everyone,
        "GET /api/v1/me" | "GET /api/v1/me/tokens" => signed_in,
        "PUT /api/v1/me/password" => session_only_write,
        "POST /api/v1/me/tokens" | "DELETE /api/v1/me/tokens/{id}" => session_only_write,
        "GET /api/v1/users" | "GET /api/v1/worker-labels" => [
            "401", "403", "403", "403", "403", "ok", "403", "401", "401", "403",
        ],
        "PUT /api/v1/worker-labels/{label}/groups/{id}"
        | "DELETE /api/v1/worker-labels/{label}/groups/{id}" => [
            "401", "403", "403", "403", "403", "ok", "403", "401", "401", "403",
        ],
        "GET /api/v1/groups" | "GET /api/v1/projects" => signed_in,
        // Top-level groups are for instance admins (the default setting).
        "POST /api/v1/groups" => [
            "401", "403", "403", "403", "403", "ok", "403", "401", "401", "403",
        ],
        "GET /api/v1/groups/{id}" | "GET /api/v1/projects/{id}" | "GET /api/v1/resolve" => view,
        "GET /api/v1/groups/{id}/members" | "GET /api/v1/projects/{id}/members" => view,
        "PATCH /api/v1/groups/{id}" | "PATCH /api/v1/projects/{id}" => maintain,
        // A hidden group named in the body is "no such group" (422 on the field).
        "POST /api/v1/projects" => [
            "401", "403", "403", "ok", "ok", "ok", "422", "401", "401", "403",
        ],
        "DELETE /api/v1/groups/{id}" | "DELETE /api/v1/projects/{id}" => own,
        "POST /api/v1/groups/{id}/move" | "POST /api/v1/projects/{id}/move" => own,
        "POST /api/v1/groups/{id}/members" | "POST /api/v1/projects/{id}/members" => maintain,
        "PATCH /api/v1/groups/{id}/members/{user_id}"
        | "PATCH /api/v1/projects/{id}/members/{user_id}" => maintain,
        "DELETE /api/v1/groups/{id}/members/{user_id}"
        | "DELETE /api/v1/projects/{id}/members/{user_id}" => maintain,
        "GET /api/v1/projects/{id}/workflows"
        | "GET /api/v1/projects/{id}/workflows/{name}"
        | "GET /api/v1/projects/{id}/runs"
        | "GET /api/v1/runs/{id}"
        | "GET /api/v1/runs/{id}/steps"
        | "GET /api/v1/runs/{id}/events"
        | "GET /api/v1/runs/{id}/steps/{task}/log"
        | "GET /api/v1/projects/{id}/secrets"
        | "POST /api/v1/projects/{id}/pipelines/dry-run"
        | "GET /api/v1/groups/{id}/secrets" => view,
        "PUT /api/v1/projects/{id}/workflows/{name}"
        | "DELETE /api/v1/projects/{id}/workflows/{name}"
        | "POST /api/v1/projects/{id}/workflows/{name}/runs"
        | "POST /api/v1/projects/{id}/pipelines/{name}/runs"
        | "POST /api/v1/runs/{id}/cancel"
        | "POST /api/v1/runs/{id}/retry" => develop,
        // Maintainers may approve; the matrix's run is not from a fork, so
        // the answer past the role check is 409.
        "POST /api/v1/runs/{id}/approve" => [
            "401", "403", "403", "409", "409", "409", "404", "401", "401", "403",
        ],
        // The matrix's run is a workflow's: it saved no artifacts, so past
        // the role check the answer is 404 (and the same 404 outside it).
        "GET /api/v1/runs/{id}/steps/{task}/artifacts" => [
            "401", "404", "404", "404", "404", "404", "404", "401", "401", "404",
        ],
        // The matrix names a delivery that does not exist: past the role
        // check the answer is 404.
        "POST /api/v1/projects/{id}/deliveries/{delivery}/replay" => [
            "401", "403", "403", "404", "404", "404", "404", "401", "401", "403",
        ],
        "PUT /api/v1/projects/{id}/secrets/{name}"
        | "GET /api/v1/projects/{id}/repository"
        | "GET /api/v1/projects/{id}/deliveries"
        | "PUT /api/v1/projects/{id}/repository"
        | "POST /api/v1/projects/{id}/repository/rotate-secret"
        | "DELETE /api/v1/projects/{id}/secrets/{name}"
        | "PUT /api/v1/groups/{id}/secrets/{name}"
        | "DELETE /api/v1/groups/{id}/secrets/{name}" => maintain,
        "GET /api/v1/cron/preview" => everyone,
        "GET /api/v1/schedules" | "GET /api/v1/runs" | "GET /api/v1/runs/events" => signed_in,
        "GET /api/v1/projects/{id}/schedules"
        | "GET /api/v1/schedules/{id}"
        | "GET /api/v1/schedules/{id}/firings" => view,
        "POST /api/v1/projects/{id}/schedules"
        | "PATCH /api/v1/schedules/{id}"
        | "DELETE /api/v1/schedules/{id}"
        | "POST /api/v1/schedules/{id}/pause"
        | "POST /api/v1/schedules/{id}/resume"
        | "POST /api/v1/schedules/{id}/run" => develop,
        _ => return None,
    })
}

pub(super) const ROUTES_IN_TABLE: &[&str] = &[
    "GET /api/v1/version",
    "GET /api/v1/openapi.json",
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/logout",
    "GET /api/v1/me",
    "GET /api/v1/me/tokens",
    "PUT /api/v1/me/password",
    "POST /api/v1/me/tokens",
    "DELETE /api/v1/me/tokens/{id}",
    "GET /api/v1/users",
    "GET /api/v1/worker-labels",
    "PUT /api/v1/worker-labels/{label}/groups/{id}",
    "DELETE /api/v1/worker-labels/{label}/groups/{id}",
    "GET /api/v1/groups",
    "GET /api/v1/projects",
    "POST /api/v1/groups",
    "GET /api/v1/groups/{id}",
    "GET /api/v1/projects/{id}",
    "GET /api/v1/resolve",
    "GET /api/v1/groups/{id}/members",
    "GET /api/v1/projects/{id}/members",
    "PATCH /api/v1/groups/{id}",
    "PATCH /api/v1/projects/{id}",
    "POST /api/v1/projects",
    "DELETE /api/v1/groups/{id}",
    "DELETE /api/v1/projects/{id}",
    "POST /api/v1/groups/{id}/move",
    "POST /api/v1/projects/{id}/move",
    "POST /api/v1/groups/{id}/members",
    "POST /api/v1/projects/{id}/members",
    "PATCH /api/v1/groups/{id}/members/{user_id}",
    "PATCH /api/v1/projects/{id}/members/{user_id}",
    "DELETE /api/v1/groups/{id}/members/{user_id}",
    "DELETE /api/v1/projects/{id}/members/{user_id}",
    "GET /api/v1/projects/{id}/workflows",
    "GET /api/v1/projects/{id}/workflows/{name}",
    "PUT /api/v1/projects/{id}/workflows/{name}",
    "DELETE /api/v1/projects/{id}/workflows/{name}",
    "POST /api/v1/projects/{id}/workflows/{name}/runs",
    "GET /api/v1/projects/{id}/runs",
    "GET /api/v1/runs/{id}",
    "GET /api/v1/runs/{id}/steps",
    "GET /api/v1/runs/{id}/events",
    "POST /api/v1/runs/{id}/cancel",
    "POST /api/v1/runs/{id}/retry",
    "POST /api/v1/runs/{id}/approve",
    "GET /api/v1/runs/{id}/steps/{task}/log",
    "GET /api/v1/runs/{id}/steps/{task}/artifacts",
    "GET /api/v1/projects/{id}/repository",
    "GET /api/v1/projects/{id}/deliveries",
    "POST /api/v1/projects/{id}/deliveries/{delivery}/replay",
    "POST /api/v1/projects/{id}/pipelines/dry-run",
    "POST /api/v1/projects/{id}/pipelines/{name}/runs",
    "PUT /api/v1/projects/{id}/repository",
    "POST /api/v1/projects/{id}/repository/rotate-secret",
    "GET /api/v1/projects/{id}/secrets",
    "PUT /api/v1/projects/{id}/secrets/{name}",
    "DELETE /api/v1/projects/{id}/secrets/{name}",
    "GET /api/v1/groups/{id}/secrets",
    "PUT /api/v1/groups/{id}/secrets/{name}",
    "DELETE /api/v1/groups/{id}/secrets/{name}",
    "GET /api/v1/cron/preview",
    "GET /api/v1/schedules",
    "GET /api/v1/runs",
    "GET /api/v1/runs/events",
    "GET /api/v1/projects/{id}/schedules",
    "POST /api/v1/projects/{id}/schedules",
    "GET /api/v1/schedules/{id}",
    "PATCH /api/v1/schedules/{id}",
    "DELETE /api/v1/schedules/{id}",
    "POST /api/v1/schedules/{id}/pause",
    "POST /api/v1/schedules/{id}/resume",
    "POST /api/v1/schedules/{id}/run",
    "GET /api/v1/schedules/{id}/firings",
];
