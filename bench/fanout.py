"""N independent no-op tasks on a running Kiln: tasks/s from trigger to end."""
import json, os, sys, time, urllib.request, http.cookiejar
BASE = sys.argv[1]; N = int(sys.argv[2]); READY = sys.argv[3]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json"); req.add_header("Origin", BASE)
    with opener.open(req, timeout=600) as resp:
        raw = resp.read(); return json.loads(raw) if raw else None
call("POST", "/api/v1/auth/register", {"username": "bench", "password": "correct horse"})
g = call("POST", "/api/v1/groups", {"slug": "bench"})["id"]
p = call("POST", "/api/v1/projects", {"slug": "engine", "group_id": g})["id"]
wide = "tasks:\n" + "".join(f"  w{i}:\n    run: 'true'\n" for i in range(N))
call("PUT", f"/api/v1/projects/{p}/workflows/wide", {"source": wide})
def slot_sums():
    """(held s, held count, wait s, wait count, slots) from /metrics."""
    with urllib.request.urlopen(BASE + "/metrics", timeout=60) as resp:
        text = resp.read().decode()
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if not line.startswith("#") and value:
            found[name] = float(value)
    return tuple(found.get(k, 0.0) for k in (
        "kiln_step_slot_held_seconds_sum", "kiln_step_slot_held_seconds_count",
        "kiln_step_slot_wait_seconds_sum", "kiln_step_slot_wait_seconds_count",
        "kiln_step_slots"))
def busy_cpu_seconds():
    """CPU time the whole machine spent busy (user, nice, system, irq,
    softirq, steal), from /proc/stat: a step's cost that a faster or
    slower machine moves less than it moves tasks/s."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
before = slot_sums()
open(READY, "w").write("1")
cpu_before = busy_cpu_seconds()
t = time.time()
run = call("POST", f"/api/v1/projects/{p}/workflows/wide/runs", {"params": {}})["id"]
# The runs list's summary, not the run with its N steps: the poll should
# cost the server next to nothing beside the steps it measures.
while True:
    r = call("GET", f"/api/v1/projects/{p}/runs?limit=1")["items"][0]
    assert r["id"] == run, r
    if r["state"] != "running": break
    time.sleep(0.2)
took = time.time() - t
cpu = busy_cpu_seconds() - cpu_before
# The run's own duration (created -> finished, in ms) is the figure: the
# polled time moves in 0.2 s steps, 6 % of a 1,000-task run.
own = r["duration_ms"] / 1000
print(f"{N} independent no-op tasks: {own:.3f} s = {N / own:.0f} tasks/s "
      f"(the run's own duration; {took:.2f} s polled, trigger call included)")
# The polled window's busy CPU over every process (the server, its
# launcher, the steps, the database, this script), per task.
print(f"machine CPU: {1000 * cpu / N:.2f} ms a task, {cpu / took:.2f} of "
      f"{os.cpu_count()} cores busy over the polled {took:.2f} s")
# Where the time went: how busy the slots were over the run, how long a
# step held one, and how long jobs waited at the door.
after = slot_sums()
held, holds, wait, waits, slots = (a - b for a, b in zip(after, before))
slots = after[4]
if holds and slots:
    print(f"slots: {slots:.0f}, busy {100 * held / (slots * own):.0f} % of the run; "
          f"held {1000 * held / holds:.2f} ms a step; "
          f"door wait {1000 * wait / max(waits, 1):.2f} ms a job")
