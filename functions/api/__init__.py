"""The HTTPS API: JWT auth, one permission table, Powertools REST resolver, OpenAPI generated from the code."""
