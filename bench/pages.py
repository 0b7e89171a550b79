"""Every dashboard page under load (see bench/pages).
Usage: python3 bench/pages.py URL"""
import functools, os, resource, subprocess, sys, time, urllib.error, urllib.request

from kiln_api import owner_of_project, session_cookie

BASE = sys.argv[1]
CONNECTIONS = int(os.environ.get("PAGES_CONNECTIONS", "50"))
DURATION = os.environ.get("PAGES_WRK", "5s")
# What Chromium sends for an address typed or reloaded: the server picks
# the encoding. PAGES_ENCODINGS=identity measures the pages uncompressed.
ENCODINGS = os.environ.get("PAGES_ENCODINGS", "gzip, deflate, br, zstd")
SITE = "none"
# PAGES_STATEMENTS=1 (with the server's statement log in PAGES_LOG): count
# each page's database statements instead of loading it.
LOG = os.environ.get("PAGES_LOG") if os.environ.get("PAGES_STATEMENTS") == "1" else None
# PAGES_ONLY=/,/runs loads only those pages (by path, as listed below).
ONLY = [p for p in os.environ.get("PAGES_ONLY", "").split(",") if p]
# PAGES_PERF=DIR records the server (PAGES_PID) under `perf` while each page
# is loaded, with call graphs, one DIR/<n>.data per page: for a build that
# keeps its symbols (see bench/pages).
PERF = os.environ.get("PAGES_PERF")
print = functools.partial(print, flush=True)


def statements(url, headers):
    """The statements one view of `url` makes: the least of five views,
    one at a time (the sweeper's and scheduler's own statements, once a
    second, fall into the same windows now and then)."""
    counts = []
    for _ in range(5):
        time.sleep(0.3)
        with open(LOG) as f:
            before = f.read().count("sqlx::query")
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60).read()
        except urllib.error.HTTPError:
            pass
        time.sleep(0.1)
        with open(LOG) as f:
            counts.append(f.read().count("sqlx::query") - before)
    return min(counts)


def server_cpu():
    """The server's CPU time so far (user and system), in seconds; 0 when
    this script was started without the server's PAGES_PID."""
    pid = os.environ.get("PAGES_PID")
    if not pid:
        return 0.0
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    """The CPU time of this script's finished children (wrk), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def chain_of_layers(layers, width):
    lines = ["tasks:"]
    for layer in range(layers):
        for i in range(width):
            lines.append(f"  l{layer:02d}_task_{i:02d}:")
            lines.append("    run: 'true'")
            if layer > 0:
                needs = sorted({f"l{layer - 1:02d}_task_{i:02d}", f"l{layer - 1:02d}_task_{(i + 1) % width:02d}"})
                lines.append(f"    needs: [{', '.join(needs)}]")
    return "\n".join(lines) + "\n"


api, project = owner_of_project(BASE, "web")
api.call("PUT", f"/api/v1/projects/{project}/workflows/ci", {"source": chain_of_layers(4, 5)})
api.call("PUT", f"/api/v1/projects/{project}/workflows/big", {"source": chain_of_layers(25, 20)})
small = api.call("POST", f"/api/v1/projects/{project}/workflows/ci/runs", {"params": {}})["id"]
big = api.call("POST", f"/api/v1/projects/{project}/workflows/big/runs", {"params": {}})["id"]
for run in (small, big):
    while api.call("GET", f"/api/v1/runs/{run}")["state"] in ("queued", "running"):
        time.sleep(0.2)
cookie = session_cookie(api)

pages = [
    ("/login", None),
    ("/", cookie),
    ("/projects", cookie),
    ("/runs", cookie),
    ("/workflows", cookie),
    ("/schedules", cookie),
    ("/account", cookie),
    ("/docs/api", cookie),
    ("/g/bench", cookie),
    ("/p/bench/web", cookie),
    (f"/projects/{project}/workflows/ci", cookie),
    (f"/projects/{project}/runs", cookie),
    (f"/runs/{small} (20 tasks)", cookie),
    (f"/runs/{big} (500 tasks)", cookie),
    ("/no-such-page", cookie),
]
for n, (label, who) in enumerate(pages):
    path = label.split(" ")[0]
    if ONLY and path not in ONLY and label not in ONLY:
        continue
    headers = {"Accept-Encoding": ENCODINGS, "Sec-Fetch-Site": SITE} | ({"Cookie": who} if who else {})
    req = urllib.request.Request(BASE + path, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, body, encoding = resp.status, resp.read(), resp.headers.get("Content-Encoding", "identity")
    except urllib.error.HTTPError as e:
        status, body, encoding = e.code, e.read(), e.headers.get("Content-Encoding", "identity")
    if LOG:
        print(f"GET {label}: {status}, {statements(BASE + path, headers)} statements a view")
        continue
    args = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", DURATION, "--latency",
            "-H", f"Accept-Encoding: {ENCODINGS}", "-H", f"Sec-Fetch-Site: {SITE}"]
    if who:
        args += ["-H", f"Cookie: {who}"]
    perf = None
    if PERF:
        os.makedirs(PERF, exist_ok=True)
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,32768",
                                 "-p", os.environ["PAGES_PID"], "-o", f"{PERF}/{n:02d}.data"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    server_before, wrk_before = server_cpu(), children_cpu()
    out = subprocess.run(args + [BASE + path], capture_output=True, text=True).stdout
    server_spent, wrk_spent = server_cpu() - server_before, children_cpu() - wrk_before
    if perf:
        perf.send_signal(2)
        perf.wait()
        print(f"  perf: {PERF}/{n:02d}.data")
    pick = lambda key: next((l.split()[1] for l in out.splitlines() if l.strip().startswith(key)), "?")
    p99 = pick("99%")
    served = next((int(l.split()[0]) for l in out.splitlines() if " requests in " in l), 0)
    print(f"GET {label}: {status}, {len(body):,} bytes as {encoding}; "
          f"p50 {pick('50%')}, p99 {p99}, {pick('Requests/sec')} req/s (wrk -c{CONNECTIONS} {DURATION})")
    if served and os.environ.get("PAGES_PID"):
        print(f"  CPU a view: server {1000 * server_spent / served:.2f} ms, "
              f"wrk {1000 * wrk_spent / served:.2f} ms")
print("every page signed in (its owner), but /login signed out")
# What Chromium fetches on a first visit to each run page (issue 14 asks
# at most 250 KB): the HTML as the server now sends it, and the assets.
if os.environ.get("PAGES_BROWSER", "1") != "0" and not LOG:
    for label in (f"/runs/{small} (20 tasks)", f"/runs/{big} (500 tasks)"):
        out = subprocess.run(["node", "bench/first_visit.mjs", BASE + label.split(" ")[0], cookie],
                             capture_output=True, text=True)
        lines = out.stdout.strip().splitlines() if out.returncode == 0 else []
        print(f"Chromium, first visit to {label}: "
              + (lines[-1] if lines else f"failed: {out.stderr.strip()[:600]}"))

