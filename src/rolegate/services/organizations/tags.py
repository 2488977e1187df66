"""Tags on roots, OUs, accounts and customer policies: TagResource, UntagResource, ListTagsForResource, and
the check every Create* with Tags makes (AWS also requires organizations:TagResource for those)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rolegate.services.context import CallContext
from rolegate.services.organizations import meta
from rolegate.services.organizations.common import management_org, page
from rolegate.services.organizations.errors import (
    ConstraintViolationException,
    InvalidInputException,
    TargetNotFoundException,
)
from rolegate.services.organizations.tree import belongs, resource_of
from rolegate.services.registry import operation
from rolegate.store.records import Organization, OrgPolicy, Tags

MAX_TAGS = 50
TARGET_NOT_FOUND = "You specified a target that doesn't exist."


def _merged(tags: Sequence[dict[str, str]], existing: Tags = ()) -> Tags:
    merged = dict(existing)
    seen: set[str] = set()
    for tag in tags:
        key = tag["Key"]
        if key.lower().startswith("aws:"):
            raise InvalidInputException(
                "You specified a tag key that starts with the reserved prefix aws:.", "INVALID_SYSTEM_TAGS_PARAMETER"
            )
        if key in seen:
            raise InvalidInputException(
                "Tag keys must be unique among the tags attached to the same entity.", "DUPLICATE_TAG_KEY"
            )
        seen.add(key)
        merged[key] = tag.get("Value", "")
    if len(merged) > MAX_TAGS:
        raise ConstraintViolationException(
            "You have exceeded the number of tags allowed on this resource.", "MAX_TAG_LIMIT_EXCEEDED"
        )
    return tuple(merged.items())


def checked_request_tags(call: CallContext, arn: str, tags: Sequence[dict[str, str]], existing: Tags = ()) -> Tags:
    """Validated tags; when there are any, the caller also needs organizations:TagResource on the resource."""
    merged = _merged(tags, existing)
    if tags:
        keys: dict[str, Any] = {"aws:TagKeys": [t["Key"] for t in tags]}
        keys.update({f"aws:RequestTag/{t['Key']}": t.get("Value", "") for t in tags})
        call.authorizer.check(call, "organizations:TagResource", arn, keys=keys)
    return merged


def taggable(call: CallContext, org: Organization, resource_id: str) -> str:
    """The id when it names a root, OU, account or customer policy of the organization."""
    if resource_id.startswith("p-"):
        policy = call.tx.get(OrgPolicy, resource_id)
        if policy is not None and meta.policy_owner(call.tx, resource_id) == org.org_id:
            return resource_id
    elif belongs(call.tx, org, resource_id):
        return resource_id
    raise TargetNotFoundException(TARGET_NOT_FOUND)


@operation("organizations", "TagResource", resource=resource_of("ResourceId"))
def tag_resource(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    resource_id = taggable(call, org, params["ResourceId"])
    meta.set_tags(call.tx, resource_id, _merged(params["Tags"], meta.tags_of(call.tx, resource_id)))
    return {}


@operation("organizations", "UntagResource", resource=resource_of("ResourceId"))
def untag_resource(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    resource_id = taggable(call, org, params["ResourceId"])
    doomed = set(params["TagKeys"])
    kept = tuple((k, v) for k, v in meta.tags_of(call.tx, resource_id) if k not in doomed)
    meta.set_tags(call.tx, resource_id, kept)
    return {}


@operation("organizations", "ListTagsForResource", resource=resource_of("ResourceId"))
def list_tags_for_resource(call: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    org = management_org(call)
    resource_id = taggable(call, org, params["ResourceId"])
    tags = list(meta.tags_of(call.tx, resource_id))
    return page(tags, params, "Tags", lambda kv: {"Key": kv[0], "Value": kv[1]})
