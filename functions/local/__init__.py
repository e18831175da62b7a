"""``hetero2 serve``: the service on this machine, on moto (server, backend process, stack). Not in the worker image."""
