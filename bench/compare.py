"""Summary of bench/compare's rounds: each side's median and spread, and
the median and range of the per-round ratio B/A (throughput) and of the
slot time ratio. A ratio range that straddles 1.0 is no evidence either
way.

Usage: python3 bench/compare.py RESULTS BIN_A BIN_B
(RESULTS: one line per round, "A rate held B rate held")
"""
import math
import statistics
import sys

path, bin_a, bin_b = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = []
for line in open(path):
    fields = line.split()
    if len(fields) != 6:
        continue
    rounds.append((float(fields[1]), float(fields[2]), float(fields[4]), float(fields[5])))
if not rounds:
    sys.exit("no rounds to summarise")


def spread(values):
    return f"median {statistics.median(values):.0f} (min {min(values):.0f}, max {max(values):.0f})"


print(f"A = {bin_a}: {spread([r[0] for r in rounds])} tasks/s")
print(f"B = {bin_b}: {spread([r[2] for r in rounds])} tasks/s")
ratios = sorted(r[2] / r[0] for r in rounds)
print(
    f"B/A throughput, paired by round: median {statistics.median(ratios):.3f}, "
    f"range {ratios[0]:.3f}-{ratios[-1]:.3f} over {len(ratios)} rounds"
)
held = sorted(r[3] / r[1] for r in rounds if not (math.isnan(r[1]) or math.isnan(r[3])))
if held:
    print(f"B/A time a step held its slot: median {statistics.median(held):.3f}")
