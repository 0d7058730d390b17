"""The checks iamdrift runs: pytest modules, one assertion each (the plugin does the rest)."""
