"""The gateway: Caddy's JSON config built from settings and loaded through its admin API, and the discovery
registry (heartbeats in, live upstreams out to Caddy). No proxying in Python: Caddy does that.

Imports nothing from app/, api/, portal/ or fileserver/: its contract with them is URLs, the heartbeat format
and the identity service's HTTP routes."""
