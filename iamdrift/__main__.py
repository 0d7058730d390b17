"""`python -m iamdrift`: the command line, as the `iamdrift` command and `runner.py` give it."""

from iamdrift.cli.main import entry

entry()
