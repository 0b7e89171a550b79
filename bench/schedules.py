"""Schedule benchmark client: creates 10,000 schedules on a running `kiln
serve` over its API (9,000 daily ones, 1,000 that fire every minute, spread
over the seconds: about 17 firings a second), then measures firing lateness
(instant -> run written, from the firings table), the server's CPU with
firings and with only the daily schedules (between ticks), and RSS.

Usage: python3 bench/schedules.py URL PID LABEL DB
  DB: the SQLite file, or a postgres:// URL (read with psql).
"""
import functools
import json
import random
import sqlite3
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar

BASE, PID, LABEL, DB = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
print = functools.partial(print, flush=True)
jar = CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
TICK = 100  # clock ticks per second (/proc/PID/stat units)


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Origin", BASE)
    with opener.open(req, timeout=600) as resp:
        text = resp.read()
        return json.loads(text) if text else None


def rss_mb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds():
    with open(f"/proc/{PID}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def query(sql):
    if DB.startswith("postgres"):
        out = subprocess.run(["psql", "-At", DB, "-c", sql], check=True, capture_output=True, text=True)
        return [line.split("|") for line in out.stdout.splitlines() if line]
    with sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql).fetchall()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int((len(values) - 1) * p))]


call("POST", "/api/v1/auth/register", {"username": "bench", "password": "correct horse"})
group = call("POST", "/api/v1/groups", {"slug": "bench"})["id"]
project = call("POST", "/api/v1/projects", {"slug": "schedules", "group_id": group})["id"]
call("PUT", f"/api/v1/projects/{project}/workflows/tick", {"source": "tasks:\n  tick:\n    run: 'true'\n"})
time.sleep(1)
print(f"{LABEL}: RSS idle: {rss_mb():.1f} MB")

random.seed(7)
began = time.time()
busy = []
for i in range(10_000):
    if i < 1000:
        cron = f"{i % 60} * * * * *"
    else:
        cron = f"{random.randrange(60)} {random.randrange(24)} * * *"
    made = call("POST", f"/api/v1/projects/{project}/schedules",
                {"name": f"s{i}", "cron": cron, "workflow": "tick",
                 "timezone": random.choice(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])})
    if i < 1000:
        busy.append(made["id"])
took = time.time() - began
print(f"{LABEL}: creating 10,000 schedules over the API: {took:.1f} s ({10_000 / took:.0f}/s)")
time.sleep(2)
print(f"{LABEL}: RSS with 10,000 schedules: {rss_mb():.1f} MB")

# Firings of the busy schedules: about 17 a second, each starting a run.
start_ms = int(time.time() * 1000)
cpu0 = cpu_seconds()
time.sleep(120)
cpu1 = cpu_seconds()
end_ms = int(time.time() * 1000)
print(f"{LABEL}: CPU of the server process while firing ~17 schedules/s (the steps' own processes not counted): {(cpu1 - cpu0) / 120 * 100:.1f} % of one core")
rows = query(f"SELECT lateness_ms, outcome FROM kiln_schedule_firings "
             f"WHERE instant_ms >= {start_ms} AND instant_ms < {end_ms - 5000}")
late = [int(r[0]) for r in rows if r[1] in ("fired", "replaced")]
outcomes = {}
for r in rows:
    outcomes[r[1]] = outcomes.get(r[1], 0) + 1
print(f"{LABEL}: firings in 115 s: {len(rows)} {outcomes}")
print(f"{LABEL}: lateness instant -> run written: p50 {pct(late, 0.5)} ms, p99 {pct(late, 0.99)} ms, max {max(late)} ms")
doubles = query("SELECT COUNT(*) - COUNT(DISTINCT schedule_id * 100000000000000 + instant_ms) FROM kiln_schedule_firings")
print(f"{LABEL}: instants recorded twice: {doubles[0][0]}")
print(f"{LABEL}: RSS after firing: {rss_mb():.1f} MB")

# Between ticks: the busy ones paused, 9,000 daily schedules left.
for sid in busy:
    call("POST", f"/api/v1/schedules/{sid}/pause", {})
time.sleep(10)
cpu0 = cpu_seconds()
time.sleep(60)
cpu1 = cpu_seconds()
print(f"{LABEL}: CPU with 9,000 daily schedules (between ticks): {(cpu1 - cpu0) / 60 * 100:.2f} % of one core")
print(f"{LABEL}: RSS at the end: {rss_mb():.1f} MB")
