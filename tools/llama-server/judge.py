#!/usr/bin/env python3
"""Checks provcheck run records against known-nonconformance.txt.

Every contract finding and every error of a trial that failed or errored must match a rule of
the list: `TRIAL_REGEX :: MESSAGE_REGEX` (Python regexes, searched in the trial name and in the
finding's message). Rules that matched nothing are reported so the list can shrink.
Exit 0 when every finding is documented, 1 otherwise.

    judge.py known-nonconformance.txt LABEL RUN.json [RUN.json ...]

The run records are judged together (ci.sh runs the live suites in two passes), so a rule is
unused only when no record needed it.
"""
import json
import re
import sys


def rules(path):
    out = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        trial, sep, message = line.partition(" :: ")
        if not sep:
            sys.exit(f"{path}:{n}: expected `TRIAL_REGEX :: MESSAGE_REGEX`, got {line!r}")
        out.append((f"{path}:{n}", re.compile(trial), re.compile(message)))
    return out


def unsettled(record):
    """(trial, message) of every contract finding and error of a failing trial."""
    for o in record["outcomes"]:
        if o["status"] not in ("fail", "error"):
            continue
        said = False
        if o.get("error"):
            said = True
            yield o["trial"], o["error"]["message"]
        for f in o.get("findings", []):
            if f.get("class") == "contract":
                said = True
                yield o["trial"], f["message"]
        if not said:
            # A failure with nothing to match must not pass unexplained.
            yield o["trial"], f"{o['status']} with no contract finding and no error"


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    known, label, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
    table = rules(known)
    used, undocumented, failing = set(), [], set()
    findings = [f for run in runs for f in unsettled(json.load(open(run, encoding="utf-8")))]
    for trial, message in findings:
        failing.add(trial)
        hit = next((r for r in table if r[1].search(trial) and r[2].search(message)), None)
        if hit:
            used.add(hit[0])
        else:
            undocumented.append(f"  {trial}: {message}")
    for where, _, _ in table:
        if where not in used:
            print(f"{label}: {where} matched nothing in this run (the list can shrink)")
    if undocumented:
        print(f"{label}: contract findings not documented in {known}:", file=sys.stderr)
        print("\n".join(undocumented), file=sys.stderr)
        return 1
    print(f"{label}: {len(failing)} failing trials, every finding a documented non-conformance")
    return 0


sys.exit(main())
