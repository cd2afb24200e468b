"""The web desk (issue #13): `ledger serve`. An entry point beside `cli/`, not inside `ledger/`:
it imports `commands` and `projections` as the CLI does, and nothing imports it.

`app` (the Starlette application, sessions, CSRF, language), `pages` (the HTML pages),
`api` (the JSON API); the values it translates by code are marked in `ledger.vocabulary`;
`templates/` and `static/` are package data.
"""
