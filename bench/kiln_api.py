"""What the benchmark clients share: a signed-in session against Kiln's
JSON API (cookies kept, the Origin header its CSRF check wants) and
reading Kiln's RFC 3339 stamps."""
import http.cookiejar
import json
import urllib.request
from datetime import datetime


class Api:
    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Origin", self.base)
        with self.opener.open(req, timeout=600) as resp:
            text = resp.read()
            return json.loads(text) if text else None

    def text(self, path):
        """The body of a GET of `path` as text (a step's log)."""
        req = urllib.request.Request(self.base + path)
        req.add_header("Origin", self.base)
        with self.opener.open(req, timeout=600) as resp:
            return resp.read().decode("utf-8", "replace")


def owner_of_project(base, project_slug, group_slug="bench"):
    """A new signed-in admin who owns group `group_slug` and project
    `project_slug` in it: (the API session, the project's id)."""
    api = Api(base)
    creds = {"username": "admin", "password": "correct horse"}
    api.call("POST", "/api/v1/auth/register", creds)
    api.call("POST", "/api/v1/auth/login", creds)
    group = api.call("POST", "/api/v1/groups", {"slug": group_slug})["id"]
    project = api.call("POST", "/api/v1/projects", {"slug": project_slug, "group_id": group})["id"]
    return api, project


def session_cookie(api):
    """The session cookie of `api`'s client, as a Cookie header's value."""
    jar = next(h.cookiejar for h in api.opener.handlers if hasattr(h, "cookiejar"))
    return next(f"{c.name}={c.value}" for c in jar)


def ms(stamp):
    """Milliseconds since the epoch of an RFC 3339 stamp (UTC)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000
