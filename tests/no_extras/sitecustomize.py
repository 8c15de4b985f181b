"""Put this folder on PYTHONPATH to run Python as if the GPL and non-commercial extras were not
installed: importing praat-parselmouth (GPLv3+), openSMILE (research licence) or krippendorff
(GPLv3+) fails as a missing package does (tests/test_licences.py)."""
import importlib.abc
import sys

BLOCKED = {"parselmouth", "opensmile", "krippendorff"}


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named '{name}' (blocked: tests/no_extras)", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
