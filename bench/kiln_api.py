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


def ms(stamp):
    """Milliseconds since the epoch of an RFC 3339 stamp (UTC)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000
