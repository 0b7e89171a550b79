"""A big run's page (see bench/big_run).
Usage: python3 bench/big_run.py URL TASKS"""
import functools, os, subprocess, sys, time, urllib.request

from kiln_api import owner_of_project, session_cookie

BASE, TASKS = sys.argv[1], int(sys.argv[2])
WIDTH = 20
# wrk's connections and duration.
CONNECTIONS = int(os.environ.get("BIG_RUN_CONNECTIONS", "50"))
DURATION = os.environ.get("BIG_RUN_WRK", "8s")
print = functools.partial(print, flush=True)


def name(layer, i):
    return f"layer{layer:02d}_extract_part_{i:02d}"


def workflow():
    lines = ["tasks:"]
    for n in range(TASKS):
        layer, i = divmod(n, WIDTH)
        lines.append(f"  {name(layer, i)}:")
        lines.append("    run: 'true'")
        if layer > 0:
            needs = sorted({name(layer - 1, i), name(layer - 1, (i + 1) % WIDTH)})
            lines.append(f"    needs: [{', '.join(needs)}]")
    return "\n".join(lines) + "\n"


api, project = owner_of_project(BASE, "big")
api.call("PUT", f"/api/v1/projects/{project}/workflows/big", {"source": workflow()})
run = api.call("POST", f"/api/v1/projects/{project}/workflows/big/runs", {"params": {}})["id"]
t0 = time.monotonic()
while api.call("GET", f"/api/v1/runs/{run}")["state"] in ("queued", "running"):
    time.sleep(0.2)
print(f"{TASKS} tasks ({WIDTH} a layer) ran in {time.monotonic() - t0:.1f} s")
session = session_cookie(api)
last = name((TASKS - 1) // WIDTH, (TASKS - 1) % WIDTH)


def fetch(path, encoding):
    req = urllib.request.Request(BASE + path, headers={"Cookie": session, "Accept-Encoding": encoding})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.headers.get("Content-Encoding") or "identity", len(resp.read())


if os.environ.get("BIG_RUN_SAVE"):
    # The page as sent, to see where its bytes go.
    req = urllib.request.Request(BASE + f"/runs/{run}", headers={"Cookie": session})
    with urllib.request.urlopen(req, timeout=60) as resp, open(os.environ["BIG_RUN_SAVE"], "wb") as out:
        out.write(resp.read())
for path in [f"/runs/{run}", f"/runs/{run}?step={last}"]:
    sent = fetch(path, "br")
    plain = fetch(path, "identity")
    print(f"GET {path}: {plain[1]:,} bytes of HTML, {sent[1]:,} sent as {sent[0]}")
    out = subprocess.run(["wrk", "-t", str(min(2, CONNECTIONS)), "-c", str(CONNECTIONS), "-d", DURATION, "--latency",
                          "-H", f"Cookie: {session}", "-H", "Accept-Encoding: br", BASE + path],
                         capture_output=True, text=True).stdout
    pick = lambda key: next((l.split()[1] for l in out.splitlines() if l.strip().startswith(key)), "?")
    print(f"  wrk -c{CONNECTIONS} {DURATION}: p50 {pick('50%')}, p99 {pick('99%')}, {pick('Requests/sec')} req/s")
if os.environ.get("BIG_RUN_BROWSER", "1") == "1":
    browser = subprocess.run(["node", "bench/big_run.mjs", f"{BASE}/runs/{run}", session, last],
                             capture_output=True, text=True)
    print(browser.stdout + browser.stderr[-2000:], end="")
