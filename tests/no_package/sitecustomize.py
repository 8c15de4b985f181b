"""Put this folder on PYTHONPATH to run Python as if speechbrain_ser were not installed (the venv's
editable install is taken off the import system): an exported model folder must load from its own
code/ (tests/test_inference.py)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.meta_path[:] = [f for f in sys.meta_path if "speechbrain_ser" not in getattr(f, "__module__", "")
                    and "speechbrain_ser" not in type(f).__module__]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
