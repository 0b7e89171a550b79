"""Download and live-lists benchmark client (see bench/live).
Usage: python3 bench/live.py URL SERVER_PID"""
import functools, json, re, socket, statistics, subprocess, sys, threading, time, urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlparse

BASE, PID = sys.argv[1], int(sys.argv[2])
print = functools.partial(print, flush=True)
STREAMS, RUNS = 100, 20


def client():
    jar = CookieJar()
    return jar, urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def call(opener, method, path, body=None, raw=False, headers=()):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Origin", BASE)
    for name, value in headers:
        req.add_header(name, value)
    with opener.open(req, timeout=600) as resp:
        if raw:
            return resp.headers, resp.read()
        text = resp.read()
        return json.loads(text) if text else None


def rss_mb():
    with open(f"/proc/{PID}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1]) / 1024


def cpu_s():
    with open(f"/proc/{PID}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / 100


admin_jar, admin = client()
call(admin, "POST", "/api/v1/auth/register", {"username": "admin", "password": "correct horse"})
call(admin, "POST", "/api/v1/auth/login", {"username": "admin", "password": "correct horse"})
group = call(admin, "POST", "/api/v1/groups", {"slug": "bench"})["id"]
project = call(admin, "POST", "/api/v1/projects", {"slug": "live", "group_id": group})["id"]
call(admin, "PUT", f"/api/v1/projects/{project}/workflows/w", {"source": "tasks:\n  only:\n    run: 'true'\n"})
first = call(admin, "POST", f"/api/v1/projects/{project}/workflows/w/runs", {"params": {}})["id"]
# 20 viewers of the project, 5 open streams each (a caller may hold 6).
USERS = 20
tokens = []
for n in range(USERS):
    _, viewer = client()
    creds = {"username": f"viewer{n}", "password": "correct horse"}
    call(viewer, "POST", "/api/v1/auth/register", creds)
    call(viewer, "POST", "/api/v1/auth/login", creds)
    call(admin, "POST", f"/api/v1/groups/{group}/members", {"username": f"viewer{n}", "role": "viewer"})
    tokens.append(call(viewer, "POST", "/api/v1/me/tokens", {"name": "bench", "scope": "read"})["secret"])

# --- a cold visit to the run page ------------------------------------------
page_headers, html = call(admin, "GET", f"/runs/{first}", raw=True, headers=[("Accept-Encoding", "br, gzip")])
print(f"run page HTML: {len(html):,} bytes ({page_headers.get('Content-Encoding') or 'identity'}), "
      f"Cache-Control: {page_headers.get('Cache-Control')}")
total = len(html)
assets = sorted(set(re.findall(rb"/pkg/(kiln\.[A-Za-z0-9_-]+\.(?:css|js|wasm))", html)))
for name in assets:
    name = name.decode()
    for encoding in ["br", "gzip", "identity"]:
        headers, body = call(admin, "GET", f"/pkg/{name}", raw=True, headers=[("Accept-Encoding", encoding)])
        size = len(body)
        if encoding == "br":
            total += size
            cache = headers.get("Cache-Control")
        print(f"  {name}: {size:,} bytes as {headers.get('Content-Encoding') or 'identity'}")
    print(f"    Cache-Control: {cache}")
print(f"HTML and the assets it names, brotli: {total:,} bytes (HTML + {len(assets)} assets); "
      f"a second visit fetches only the HTML ({len(html):,} bytes): the assets are immutable")
# What Chromium really fetches, lazily loaded WASM pieces included, for a
# signed-in first visit to each kind of page.
session = next(f"{c.name}={c.value}" for c in admin_jar)
for path in [f"/runs/{first}", "/", "/login"]:
    print(f"Chromium, {path}:")
    print(subprocess.run(["node", "bench/first_visit.mjs", BASE + path, session],
                         capture_output=True, text=True, check=True).stdout, end="")

wasm = next(a.decode() for a in assets if a.endswith(b".wasm"))
out = subprocess.run(["wrk", "-t", "1", "-c", "4", "-d", "10s", "--latency", "-H", "Accept-Encoding: br",
                      f"{BASE}/pkg/{wasm}"], capture_output=True, text=True).stdout
rps = next((l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")), "?")
p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), "?")
print(f"GET /pkg/{wasm} (brotli twin): {rps} req/s, p99 {p99} (wrk, 4 connections, 10 s)")

# --- 100 live streams --------------------------------------------------------
u = urlparse(BASE)
heard = {}  # run id -> list of arrival times
lock = threading.Lock()
ready = threading.Barrier(STREAMS + 1)


def listen(token):
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(f"GET /api/v1/runs/events HTTP/1.1\r\nHost: {u.netloc}\r\nAuthorization: Bearer {token}\r\n"
              f"Accept: text/event-stream\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    if not buf.startswith(b"HTTP/1.1 200"):
        print("stream refused:", buf.split(b"\r\n")[0].decode())
    ready.wait()
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return
        now = time.monotonic()
        for ids in re.findall(rb'"runs":\[([0-9,]*)\]', chunk):
            for run in ids.split(b","):
                if run:
                    with lock:
                        heard.setdefault(int(run), []).append(now)


threads = [threading.Thread(target=listen, args=(tokens[i % USERS],), daemon=True) for i in range(STREAMS)]
for t in threads:
    t.start()
ready.wait()
time.sleep(1.5)
rss_before, cpu_before = rss_mb(), cpu_s()
started = {}
for _ in range(RUNS):
    t0 = time.monotonic()
    run = call(admin, "POST", f"/api/v1/projects/{project}/workflows/w/runs", {"params": {}})["id"]
    started[run] = t0
    time.sleep(1.2)  # one run per event gap: each start is a fresh change
time.sleep(2)
lat = []
missing = 0
for run, t0 in started.items():
    arrivals = heard.get(run, [])
    missing += STREAMS - len(set(range(len(arrivals)))) if len(arrivals) < STREAMS else 0
    lat.extend((t - t0) * 1000 for t in arrivals[:STREAMS])
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
print(f"{STREAMS} streams, {RUNS} runs started 1.2 s apart: start → `changed` on every stream "
      f"p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, max {lat[-1] if lat else float('nan'):.0f} ms "
      f"({len(lat)} of {STREAMS * RUNS} deliveries)")
print(f"while listening: RSS {rss_before:.1f} → {rss_mb():.1f} MB, server CPU {cpu_s() - cpu_before:.2f} s "
      f"over {RUNS * 1.2 + 2:.0f} s")
