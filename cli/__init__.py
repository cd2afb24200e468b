"""The `ledger` command line: parse -> call -> render. The only place that formats output.

Errors of the ledger (`LedgerError`) are translated once (`cli.app.LedgerGroup`): one message on
standard error and the error's exit status (2 for user input, 1 otherwise). Heavy modules (the
store, the event models, the rules) are imported inside the commands so that `ledger --help` is
fast. The commands live by concern: `records` (recording), `queries`, `board`, `whatif`,
`admin` (import, export, demo, rebuild, verify), `users` (the web desk's users), `serve` (the web desk), `notify` (notices to WeCom, DingTalk, webhooks); each registers itself on `main`.
"""
from . import admin, board, notify, queries, records, serve, users, whatif  # noqa: F401  (they register the commands)
from .app import StoreOptions, main, parse_time, say, store_options
from .records import RECORD_CHANNELS, RECORD_PRESENCES, RECORD_PRESETS, complete_channel_list, complete_consultants

__all__ = ["main", "StoreOptions", "store_options", "parse_time", "say", "RECORD_CHANNELS", "RECORD_PRESENCES",
           "RECORD_PRESETS", "complete_channel_list", "complete_consultants"]
