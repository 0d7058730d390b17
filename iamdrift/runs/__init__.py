"""The commands' engines, above the plugin: a run from its start to its place in the
history (pytest with the plugin, one process or shards and a merge), on a schedule; a
plan judged before apply; accept, snapshot and the demo. Each takes typed options and
returns a typed result; `cli/` only parses arguments and prints."""
