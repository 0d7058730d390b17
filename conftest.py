"""pytest glue for `pytest checks/`: options, fixtures and report hooks live in iamdrift.plugin."""

pytest_plugins = ["iamdrift.plugin"]
