"""Runs-across-projects benchmark client (see bench/home): 20 projects with
50 finished runs each, then wrk against the list and the home page as a
member of every project. Usage: python3 bench/home.py URL DIR"""
import functools, json, os, subprocess, sys, time, urllib.request
from http.cookiejar import CookieJar

BASE, DIR = sys.argv[1], sys.argv[2]
print = functools.partial(print, flush=True)


def client():
    jar = CookieJar()
    return jar, urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def call(opener, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    req.add_header("Origin", BASE)
    with opener.open(req, timeout=600) as resp:
        text = resp.read()
        return json.loads(text) if text else None


_, admin = client()
call(admin, "POST", "/api/v1/auth/register", {"username": "admin", "password": "correct horse"})
jar, member = client()
call(member, "POST", "/api/v1/auth/register", {"username": "member", "password": "correct horse"})
projects = []
for g in range(20):
    group = call(admin, "POST", "/api/v1/groups", {"slug": f"g{g}"})["id"]
    call(admin, "POST", f"/api/v1/groups/{group}/members", {"username": "member", "role": "developer"})
    project = call(admin, "POST", "/api/v1/projects", {"slug": "p", "group_id": group})["id"]
    call(admin, "PUT", f"/api/v1/projects/{project}/workflows/w", {"source": "tasks:\n  only:\n    run: 'true'\n"})
    projects.append(project)
began = time.time()
for n in range(50):
    for project in projects:
        call(member, "POST", f"/api/v1/projects/{project}/workflows/w/runs", {"params": {}})
while call(member, "GET", "/api/v1/runs?state=running&limit=1")["items"]:
    time.sleep(0.2)
print(f"1,000 runs in 20 projects made and finished in {time.time() - began:.1f} s")
token = call(member, "POST", "/api/v1/me/tokens", {"name": "bench", "scope": "read"})["secret"]
cookie = "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(label, path, header):
    out = subprocess.run(["wrk", "-t", "1", "-c", "4", "-d", "10s", "--latency", "-H", header, BASE + path],
                         capture_output=True, text=True).stdout
    rps = next((l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")), "?")
    p50 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("50%")), "?")
    p99 = next((l.split()[1] for l in out.splitlines() if l.strip().startswith("99%")), "?")
    non2xx = next((l.strip() for l in out.splitlines() if "Non-2xx" in l), "all 2xx")
    print(f"{label}: {rps} req/s, p50 {p50}, p99 {p99} (wrk, 4 connections, 10 s; {non2xx})")


assert len(call(member, "GET", "/api/v1/runs")["items"]) == 50
wrk("GET /api/v1/runs (newest 50 of 1,000 in 20 projects)", "/api/v1/runs", f"Authorization: Bearer {token}")
wrk("GET /api/v1/runs?state=cancelled (no run matches)", "/api/v1/runs?state=cancelled", f"Authorization: Bearer {token}")
wrk("GET / (signed-in home page: running, failures, recent)", "/", f"Cookie: {cookie}")
