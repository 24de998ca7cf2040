"""Puts tests/ on the import path, so that every test can `import ocsf_cli`."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
