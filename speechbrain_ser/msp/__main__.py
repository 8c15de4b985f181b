"""python -m speechbrain_ser.msp report|seeds|ensemble|easy-difficult

    report --exp-dir E [--command "..."]            # stage 5
    seeds --runs DIR                                # mean ± sample std over <name>_seed<k> runs
    ensemble --systems E1 E2 ... --labels L --out DIR
    easy-difficult --systems E1 E2 E3 --labels L [--set dev]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..report import markdown
from . import CAT
from .analyses import easy_difficult, ensemble, seeds_table
from .report import report


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.msp", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--exp-dir", required=True, type=Path)
    r.add_argument("--command", default=None)
    s = sub.add_parser("seeds")
    s.add_argument("--runs", required=True, type=Path)
    e = sub.add_parser("ensemble")
    e.add_argument("--systems", nargs="+", required=True)
    e.add_argument("--labels", required=True, type=Path)
    e.add_argument("--out", required=True, type=Path)
    d = sub.add_parser("easy-difficult")
    d.add_argument("--systems", nargs="+", required=True)
    d.add_argument("--labels", required=True, type=Path)
    d.add_argument("--set", default="dev")
    a = ap.parse_args(argv)
    if a.cmd == "report":
        print(report(a.exp_dir, a.command))
    elif a.cmd == "seeds":
        print(seeds_table(a.runs))
    elif a.cmd == "ensemble":
        rows = ensemble(a.systems, a.out, a.labels)
        print(markdown(rows, ["set", "thresholds", "n"] + [k for k in CAT + ["ccc_mean"] if any(k in r for r in rows)]))
    else:
        print(easy_difficult(a.systems, a.labels, a.set))


if __name__ == "__main__":
    main()
