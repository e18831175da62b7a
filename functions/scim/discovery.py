"""What the service tells an identity provider about itself (RFC 7644 §4): its features, schemas, resource types.

Built from scim2-models' own User and Group models, so what is published is exactly what is validated.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    Filter,
    Group,
    Meta,
    Patch,
    Resource,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
    User,
)

MAX_RESULTS: Final = 200  # a page holds at most this many resources (ServiceProviderConfig.filter.maxResults)
DEFAULT_COUNT: Final = 100
RESOURCES: Final[dict[str, type[Resource[Any]]]] = {"Users": User, "Groups": Group}
ENDPOINTS: Final[dict[type[Resource[Any]], str]] = {model: endpoint for endpoint, model in RESOURCES.items()}


def service_provider_config(base_url: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="SCIM bearer token",
                description="The org's SCIM token, issued by an org admin with POST /v1/orgs/{org}/scim-token",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base_url}/ServiceProviderConfig"),
    )


@cache
def _schemas() -> tuple[Schema, ...]:
    return tuple(model.to_schema() for model in RESOURCES.values())


def schemas(base_url: str) -> list[Schema]:
    published = []
    for schema in _schemas():
        copy = schema.model_copy(deep=True)
        copy.meta = Meta(resource_type="Schema", location=f"{base_url}/Schemas/{schema.id}")
        published.append(copy)
    return published


def resource_types(base_url: str) -> list[ResourceType]:
    published = []
    for model in RESOURCES.values():
        resource_type = ResourceType.from_resource(model)
        resource_type.meta = Meta(resource_type="ResourceType", location=f"{base_url}/ResourceTypes/{resource_type.id}")
        published.append(resource_type)
    return published
