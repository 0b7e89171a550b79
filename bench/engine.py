"""Engine benchmark client: drives a running `kiln serve` over its API and
reads the step timestamps Kiln records. Prints one line per measurement.

Usage: python3 bench/engine.py URL PID LABEL
"""
import functools
import json
import sys
import time
import urllib.request
from http.cookiejar import CookieJar

BASE, PID, LABEL = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print = functools.partial(print, flush=True)
jar = CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


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


def ms(ts):
    # RFC 3339 with milliseconds, UTC.
    from datetime import datetime
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int((len(values) - 1) * p))]


def wait(run, limit=600):
    began = time.time()
    while True:
        body = call("GET", f"/api/v1/runs/{run}")
        if body["state"] != "running":
            return body
        if time.time() - began > limit:
            raise SystemExit(f"run {run} still running after {limit} s")
        # Times come from the run's own stamps; polling a 1,000-step run's
        # JSON faster only takes CPU from the run being measured.
        time.sleep(0.25)


def save(project, name, source):
    call("PUT", f"/api/v1/projects/{project}/workflows/{name}", {"source": source})


def start(project, name):
    return call("POST", f"/api/v1/projects/{project}/workflows/{name}/runs", {"params": {}})["id"]


call("POST", "/api/v1/auth/register", {"username": "bench", "password": "correct horse"})
group = call("POST", "/api/v1/groups", {"slug": "bench"})["id"]
project = call("POST", "/api/v1/projects", {"slug": "engine", "group_id": group})["id"]
# The label of the queued-only tasks below, granted so they may use it.
call("PUT", f"/api/v1/worker-labels/nowhere/groups/{group}")
time.sleep(1)
print(f"{LABEL}: RSS idle: {rss_mb():.1f} MB")

# A chain of 100 no-op tasks.
chain = "tasks:\n" + "".join(
    f"  t{i}:\n    run: 'true'\n" + (f"    needs: [t{i - 1}]\n" if i else "") for i in range(100)
)
save(project, "chain", chain)
for attempt in range(2):  # the first warms caches
    run = start(project, "chain")
    done = wait(run)
steps = sorted(done["steps"], key=lambda s: int(s["task"][1:]))
assert done["state"] == "success", done["state"]
wall = ms(steps[-1]["finished_at"]) - ms(done["created_at"])
running = sum(s["duration_ms"] for s in steps)
gaps = [ms(b["started_at"]) - ms(a["finished_at"]) for a, b in zip(steps, steps[1:])]
print(f"{LABEL}: chain of 100 no-op tasks: {wall:.0f} ms end to end = {wall / 100:.2f} ms per task "
      f"({(wall - running) / 100:.2f} ms of it Kiln's overhead, the rest /bin/sh)")
print(f"{LABEL}: task finished -> dependent started: p50 {pct(gaps, 0.5):.1f} ms, p99 {pct(gaps, 0.99):.1f} ms, max {max(gaps):.1f} ms")

# 1,000 independent no-op tasks.
wide = "tasks:\n" + "".join(f"  w{i}:\n    run: 'true'\n" for i in range(1000))
save(project, "wide", wide)
began = time.time()
run = start(project, "wide")
done = wait(run)
assert done["state"] == "success", done["state"]
first = min(ms(s["started_at"]) for s in done["steps"])
last = max(ms(s["finished_at"]) for s in done["steps"])
print(f"{LABEL}: 1,000 independent no-op tasks: {(last - ms(done['created_at'])) / 1000:.2f} s "
      f"= {1000 / ((last - ms(done['created_at'])) / 1000):.0f} tasks/s (trigger call included: {time.time() - began:.2f} s wall)")
print(f"{LABEL}: RSS after 1,100 steps: {rss_mb():.1f} MB")
# Memory must come back after work, not stay at the peak.
time.sleep(30)
print(f"{LABEL}: RSS 30 s after the fan-out: {rss_mb():.1f} MB")

# The same fan-out while ten pages follow it live (its event stream): how
# much that costs, and how long an event takes from commit to a page.
import threading


def follow(run, got):
    req = urllib.request.Request(BASE + f"/api/v1/runs/{run}/events")
    try:
        resp = opener.open(req, timeout=600)
    except urllib.error.HTTPError as error:  # an older Kiln has no stream
        print(f"{LABEL}: event stream refused: {error.code}")
        return
    with resp:
        for raw in resp:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                got.append((time.time() * 1000, json.loads(line[6:])))


run = start(project, "wide")
streams = [[] for _ in range(10)]
followers = [threading.Thread(target=follow, args=(run, got)) for got in streams]
for t in followers:
    t.start()
done = wait(run)
for t in followers:
    t.join(timeout=60)
last = max(ms(s["finished_at"]) for s in done["steps"])
lags = [at - ms(e["at"]) for got in streams for at, e in got if e.get("to") == "success"]
counts = sorted(len(got) for got in streams)
lag = f"commit -> page p50 {pct(lags, 0.5):.0f} ms, p99 {pct(lags, 0.99):.0f} ms" if lags else "no events (no stream)"
print(f"{LABEL}: 1,000 tasks followed by 10 live pages: "
      f"{1000 / ((last - ms(done['created_at'])) / 1000):.0f} tasks/s; events per page {counts[0]}-{counts[-1]}; {lag}")

# A 100 MB printer: the log is capped and memory stays flat.
save(project, "chatty", "tasks:\n  chatty:\n    run: head -c 100000000 /dev/zero | tr '\\0' 'a'\n")
before = rss_mb()
done = wait(start(project, "chatty"))
print(f"{LABEL}: a task printing 100 MB: {done['steps'][0]['state']}, RSS {before:.1f} -> {rss_mb():.1f} MB")

# Starting 2,000 tasks (the default cap) while ten other users write: the
# run must answer quickly and nobody else may get an error.

wide2k = "tasks:\n" + "".join(f"  s{i}: {{runs_on: [nowhere], run: 'true'}}\n" for i in range(2000))
save(project, "start2k", wide2k)
errors = []
writes = []


def writer(n):
    for i in range(6):
        t0 = time.time()
        try:
            call("PUT", f"/api/v1/projects/{project}/secrets/W{n}_{i}", {"value": "value-%d" % i})
        except Exception as e:  # noqa: BLE001 - counted, not raised
            errors.append(str(e))
        writes.append((time.time() - t0) * 1000)


threads = [threading.Thread(target=writer, args=(n,)) for n in range(10)]
began = time.time()
for t in threads:
    t.start()
start(project, "start2k")
took = time.time() - began
for t in threads:
    t.join()
print(f"{LABEL}: starting a run of 2,000 tasks took {took:.2f} s; 60 concurrent writes: "
      f"{len(errors)} failed, p50 {pct(writes, 0.5):.0f} ms, max {max(writes):.0f} ms")

# 10,000 steps queued (their label is on no worker).
many = "tasks:\n" + "".join(f"  q{i}: {{runs_on: [nowhere], run: 'true'}}\n" for i in range(10000))
save(project, "queued", many)
began = time.time()
start(project, "queued")
print(f"{LABEL}: starting a run of 10,000 tasks took {time.time() - began:.2f} s")
time.sleep(2)
print(f"{LABEL}: RSS with 10,000 queued steps, 2 s after the start: {rss_mb():.1f} MB")
# At rest: what the queued steps themselves cost, once the start's
# transient allocations (parse, rows, events, jobs) were handed back.
time.sleep(8)
print(f"{LABEL}: RSS with 10,000 queued steps, 10 s after the start: {rss_mb():.1f} MB")
