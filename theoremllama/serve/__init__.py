"""The verifier as a service, and the clients that use one.

    theoremllama serve --workers 8 --api-key $KEY          # a Verifier pool behind HTTP
    RemoteVerifier("http://cpu-node:8000", api_key=KEY)     # the same interface as Verifier

Modules:
    models.py   the native wire format (`POST /verify`): jobs in, verdicts out
    kimina.py   kimina-lean-server's wire format (`POST /api/check`) and how a snippet becomes a job
    metrics.py  Prometheus metrics (`GET /metrics`)
    app.py      the FastAPI app: auth, request limits, admission (429), the routes
    cli.py      `theoremllama serve` (uvicorn)
    client.py   `RemoteVerifier`, with retries on connection errors and 429/503
"""
