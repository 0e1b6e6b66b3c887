"""The edges: where people and programs meet the library. Each maps library errors to its
own medium (an exit code and a message, an HTTP status, a JSON line) and renders answers.

- `cli` (with `click_language`: click in the user's language): the `kundskab` command
- `rendering`: what the commands print, text and JSON text, from the library's results
- `service` (with `connections`, `sandbox`, `models`): `kundskab serve`, the HTTP API
- `web` (+ `templates_html/`): the page of `kundskab serve` in a browser
- `batch`: cases as JSON lines in and out, optionally over worker processes
- `store`: the knowledge base from a SPARQL store, for many replicas
- `portfolio_output`: the portfolio report as text, CSV, xlsx and HTML
"""
