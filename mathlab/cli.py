"""Command line: `mathlab run` (the notebooks), `mathlab eval` (one model, one set),
`mathlab model` (the embedded model cache) and `mathlab report` (a run's tables)."""

from __future__ import annotations

import sys

USAGE = """usage: mathlab <command> [options]

commands:
  run    execute the notebooks headless into a run folder (mathlab run --help)
  eval   evaluate a model on a problem set (mathlab eval --help)
  model  convert/check the embedded model cache (mathlab model --help)
  report a run's measured numbers as tables, or the README's generated block (--help)
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        from mathlab.runner import run_main

        return run_main(rest)
    if command == "eval":
        from mathlab.evaluate import eval_main

        return eval_main(rest)
    if command == "model":
        return model_main(rest)
    if command == "report":
        from mathlab.report import report_main

        return report_main(rest)
    print(f"mathlab: unknown command '{command}'\n\n{USAGE}", file=sys.stderr)
    return 2


def model_main(argv: list[str]) -> int:
    import argparse

    from mathlab.models import convert_embedded

    parser = argparse.ArgumentParser(prog="mathlab model")
    parser.add_argument(
        "action", choices=["convert"], help="convert the embedded GGUF model into the cache"
    )
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    print(convert_embedded(force=args.force))
    return 0
