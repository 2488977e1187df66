"""Engine benchmark: checks the four requests of shared/bench/policies.json, then times requests[0].

Prints decisions/s and µs/decision (median of several runs) for two measurements:
  - authorize: the decision on a prepared request (policies compiled once, as the server keeps them);
  - end to end: building the request context from plain values, then authorizing.
Usage: python bench/engine.py [PATH_TO_POLICIES_JSON]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from rolegate.policy import (
    PolicySet,
    authorize,
    build_context,
    compile_policy,
    parse_policy,
    principal_from_arn,
)

EXPECTED = {"Allowed": "Allowed", "ExplicitlyDenied": "ExplicitDeny", "ImplicitlyDenied": "ImplicitDeny"}
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared" / "bench" / "policies.json"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    data = json.loads(path.read_text())
    compiled = []
    for entry in data["identityPolicies"]:
        parsed = parse_policy(entry["policy"])
        if not parsed.ok or parsed.policy is None:
            print(f"policy {entry['name']} does not parse: {parsed.errors}")
            return 1
        compiled.append(compile_policy(parsed.policy, entry["name"]))
    policies = PolicySet(identity=tuple(compiled))
    principal = principal_from_arn(data["principal"], entity_arn=data["roleArn"])

    def context(request: dict[str, str]):  # type: ignore[no-untyped-def]
        return build_context(principal, request["action"], request["resource"], keys=data["contextVariables"])

    for request in data["requests"]:
        decision = authorize(context(request), policies)
        want = EXPECTED[request["expected"]]
        status = "ok" if decision.result.value == want else "MISMATCH"
        print(f"check {request['action']} {request['resource']}: {decision.result.value} (expected {want}) {status}")
        if status != "ok":
            return 1

    first = data["requests"][0]
    prepared = context(first)
    rounds, per_round = 7, 20000
    timings = {"authorize": [], "end to end": []}
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            authorize(prepared, policies)
        timings["authorize"].append((time.perf_counter() - start) / per_round)
        start = time.perf_counter()
        for _ in range(per_round):
            authorize(context(first), policies)
        timings["end to end"].append((time.perf_counter() - start) / per_round)
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f"{name:>10}: {1 / median:,.0f} decisions/s, {median * 1e6:.2f} µs/decision "
            f"(median of {rounds} runs x {per_round})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
