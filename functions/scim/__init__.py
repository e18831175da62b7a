"""SCIM 2.0 (RFC 7643/7644) over the org membership: the endpoints an identity provider provisions users through.

``paths`` (the base path), ``discovery`` (ServiceProviderConfig, Schemas, ResourceTypes), ``listing`` (filter,
pagination, attribute selection), ``app`` (the dispatcher behind ``/scim/v2``: token, routes, errors, audit). The
resources live in :mod:`functions.service.scim_directory`, the token in :mod:`functions.service.scim_tokens`.
"""
