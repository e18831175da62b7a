"""A list or search of one resource type: ``filter``, ``startIndex``/``count`` pagination, ``attributes``.

The org's resources are read once and filtered with scim2-models' own evaluator (every operator of RFC 7644
§3.4.2.2, ``and``/``or``/``not``, value paths), so what the filter means is the library's, not ours. An org holds
hundreds to a few thousand users; reading them costs one paged Query. ``userName eq "x"``, what IdPs send before
every create, is answered from the user's org record instead (:meth:`ScimDirectory.find_user`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scim2_models import Context, ListResponse, Resource, SearchRequest
from scim2_models.path.expressions import CompareOperator, Comparison

from functions.scim.discovery import DEFAULT_COUNT, MAX_RESULTS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# query parameter → SearchRequest field (RFC 7644 §3.4.2); others are ignored, as the RFC allows
QUERY_PARAMETERS = ("filter", "startIndex", "count", "attributes", "excludedAttributes", "sortBy", "sortOrder")


def search_request(model: type[Resource[Any]], query: Mapping[str, Any]) -> SearchRequest[Any]:
    """The request a GET's query string (or a ``.search`` body) states; a bad filter is 400 invalidFilter. ``model``
    may be a union (``User | Group``, the root ``/.search``)."""
    fields = {name: query[name] for name in QUERY_PARAMETERS if query.get(name) not in (None, "")}
    return SearchRequest[model].model_validate(fields, scim_ctx=Context.SEARCH_REQUEST)  # type: ignore[valid-type]


def equality_on(request: SearchRequest[Any], attribute: str) -> str | None:
    """The value of a filter that is exactly ``<attribute> eq "<value>"``, else None."""
    node = request.filter.ast if request.filter is not None else None
    if (
        isinstance(node, Comparison)
        and node.op == CompareOperator.eq
        and isinstance(node.value, str)
        and node.attr_path.uri is None
        and node.attr_path.sub_attr is None
        and node.attr_path.attr.lower() == attribute.lower()
    ):
        return node.value
    return None


def page(
    model: type[Resource[Any]],
    request: SearchRequest[Any],
    resources: list[Resource[Any]],
    location: Callable[[Resource[Any]], object],
) -> dict[str, Any]:
    """The ListResponse body: the matching resources from ``startIndex`` (1-based), at most ``count`` of them."""
    matches = [r for r in resources if request.filter is None or request.filter.match(r)]
    start = max(request.start_index or 1, 1)
    count = min(DEFAULT_COUNT if request.count is None else request.count, MAX_RESULTS)
    chosen = matches[start - 1 : start - 1 + count]
    for resource in chosen:
        location(resource)
    answer = ListResponse[model](  # type: ignore[valid-type]
        total_results=len(matches), start_index=start, items_per_page=len(chosen), resources=chosen
    )
    return answer.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=request)
