//! The matrix's requests for the schedule routes and the lists across
//! projects, and the schedules they need made by the owner.

use serde_json::{Value, json};

use super::Fixture;

impl Fixture {
    /// The request for a schedule route; `None` for any other route.
    pub(super) async fn schedule_request(&self, route: &str) -> Option<(String, Option<Value>)> {
        let p = self.project;
        Some(match route {
            "GET /api/v1/cron/preview" => ("/api/v1/cron/preview?expr=@daily".into(), None),
            "GET /api/v1/schedules" => ("/api/v1/schedules".into(), None),
            "GET /api/v1/runs" => ("/api/v1/runs".into(), None),
            // Open until it is idle for `log_stream_idle_seconds` (1 s here).
            "GET /api/v1/runs/events" => ("/api/v1/runs/events".into(), None),
            "GET /api/v1/projects/{id}/schedules" => {
                (format!("/api/v1/projects/{p}/schedules"), None)
            }
            "POST /api/v1/projects/{id}/schedules" => (
                format!("/api/v1/projects/{p}/schedules"),
                Some(json!({"name": self.fresh("sched"), "cron": "@yearly", "workflow": "ok"})),
            ),
            "GET /api/v1/schedules/{id}" => {
                (format!("/api/v1/schedules/{}", self.schedule().await), None)
            }
            "GET /api/v1/schedules/{id}/firings" => (
                format!("/api/v1/schedules/{}/firings", self.schedule().await),
                None,
            ),
            "PATCH /api/v1/schedules/{id}" => (
                format!("/api/v1/schedules/{}", self.schedule().await),
                Some(json!({"cron": "@monthly"})),
            ),
            "DELETE /api/v1/schedules/{id}" => {
                (format!("/api/v1/schedules/{}", self.schedule().await), None)
            }
            "POST /api/v1/schedules/{id}/pause" => (
                format!("/api/v1/schedules/{}/pause", self.schedule().await),
                Some(json!({})),
            ),
            "POST /api/v1/schedules/{id}/resume" => (
                format!("/api/v1/schedules/{}/resume", self.schedule().await),
                Some(json!({})),
            ),
            "POST /api/v1/schedules/{id}/run" => (
                format!("/api/v1/schedules/{}/run", self.schedule().await),
                Some(json!({})),
            ),
            _ => return None,
        })
    }

    /// A fresh yearly schedule of the `ok` workflow, made by the owner.
    async fn schedule(&self) -> i64 {
        let (status, body) = self
            .owner
            .post(
                &format!("/api/v1/projects/{}/schedules", self.project),
                json!({"name": self.fresh("own-sched"), "cron": "@yearly", "workflow": "ok"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }
}
