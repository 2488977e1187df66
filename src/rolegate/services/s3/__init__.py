"""Amazon S3 over the store and the blob store: buckets, bucket policies and tags, objects, multipart
uploads and object tags, every request authorized by the engine with the bucket policy as resource policy.

Importing the package registers its operations (see services/registry.py).
"""

from rolegate.services.s3 import (
    attributes,
    bucket_defaults,
    bucket_policy,
    buckets,
    copy,
    listing,
    multipart,
    object_tagging,
    objects,
    public_access,
)
from rolegate.services.s3.storage import collect_orphans

__all__ = [
    "attributes",
    "bucket_defaults",
    "bucket_policy",
    "buckets",
    "collect_orphans",
    "copy",
    "listing",
    "multipart",
    "object_tagging",
    "objects",
    "public_access",
]
