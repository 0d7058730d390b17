"""`python -m iamdrift`: the command line, as the `iamdrift` command and `runner.py` give it."""

import sys

from iamdrift.cli.main import main

sys.exit(main())
