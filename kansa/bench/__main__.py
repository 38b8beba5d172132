"""`python -m kansa.bench ARGS` is `kansa bench ARGS`; the section children are started this way."""

import argparse
import logging
import os
import sys

from kansa.bench.cli import register_bench
from kansa.cli import UsageError
from kansa.config import KansaConfig

parser = argparse.ArgumentParser(prog="kansa")
register_bench(parser.add_subparsers(required=True))
arguments = parser.parse_args(["bench", *sys.argv[1:]])
settings = KansaConfig.from_env(os.environ)
logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
try:
    sys.exit(arguments.handler(arguments, settings))
except UsageError as exc:
    print(f"kansa: {exc}", file=sys.stderr)
    sys.exit(2)
