"""python3 -m rolloutfarm_suite generate|evaluate ..."""

from __future__ import annotations

import argparse
import sys
import time

from rolloutfarm_suite.evaluate import score
from rolloutfarm_suite.export import export
from rolloutfarm_suite.families import FAMILIES
from rolloutfarm_suite.generate import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m rolloutfarm_suite", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write DIR/train.jsonl, DIR/heldout.jsonl and media")
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--train", type=int, required=True, help="records in the train split")
    gen.add_argument("--heldout", type=int, required=True, help="records in the held-out split")
    gen.add_argument("--families", nargs="+", help=f"subset of: {', '.join(FAMILIES)} (commas work too)")
    ev = commands.add_parser("evaluate", help="run the expert's code and score expert and guess per family")
    ev.add_argument("jsonl", nargs="+", help="a split file written by generate")
    ex = commands.add_parser("export", help="write one record as task JSON + expert/guess responses files")
    ex.add_argument("jsonl", help="a split file written by generate")
    ex.add_argument("--id", required=True, help="the record's id")
    ex.add_argument("--out", required=True, help="folder for ID.task.json, ID.expert.txt, ID.guess.txt")
    args = parser.parse_args(argv)

    try:
        if args.command == "generate":
            families = [f for item in args.families or [] for f in item.split(",") if f]
            started = time.monotonic()
            summary = generate(args.out, args.seed, args.train, args.heldout, families or None)
            seconds = time.monotonic() - started
            print(f"wrote {summary.counts['train']} train + {summary.counts['heldout']} held-out records "
                  f"({', '.join(summary.families)}) to {summary.out} in {seconds:.1f} s")
            return 0
        if args.command == "export":
            for path in export(args.jsonl, args.id, args.out):
                print(path)
            return 0
        for path in args.jsonl:
            print(path)
            print(f"  {'family':<10} {'records':>7} {'expert':>7} {'guess':>7}")
            for family, s in sorted(score(path).items()):
                print(f"  {family:<10} {s.records:>7} {s.expert_accuracy:>7.1%} {s.guess_accuracy:>7.1%}")
                for failure in s.failures[:5]:
                    print(f"    expert wrong: {failure}")
        return 0
    except (ValueError, OSError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
