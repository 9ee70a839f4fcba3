import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
