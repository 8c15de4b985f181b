"""speechbrain_ser: speech emotion recognition recipes on SpeechBrain."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("speechbrain-ser")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"
