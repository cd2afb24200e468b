"""The web desk (issue #13): `ledger serve`. An entry point beside `cli/`, not inside `ledger/`:
it imports `commands` and `projections` as the CLI does, and nothing imports it.

`app` (the Starlette application, sessions, CSRF, language), `pages` (the HTML pages),
`api` (the JSON API), `vocabulary` (message ids the templates translate by value);
`templates/` and `static/` are package data.
"""
