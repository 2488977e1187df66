"""S3's errors: codes, HTTP statuses and fixed messages as S3 sends them.

S3 puts extra elements in its error XML (`BucketName`, `Key`, `UploadId`, `Condition`...); they travel in
`AwsError.extra` and the rest-xml error writer adds them. Access denials say only "Access Denied": S3 does
not name the deciding policy (the decision is still recorded on the call for `rolegate explain`).
"""

from __future__ import annotations

from rolegate.errors import (
    AccessDenied,
    AwsError,
    EntityTooLarge,
    InvalidRequest,
    MalformedXML,
    aws_error,
)

ACCESS_DENIED = "Access Denied"
MAX_PART_SIZE = 5 * 1024**3
MIN_PART_SIZE = 5 * 1024**2

NoSuchBucket = aws_error("NoSuchBucket", 404)
NoSuchKey = aws_error("NoSuchKey", 404)
NoSuchUpload = aws_error("NoSuchUpload", 404)
NoSuchBucketPolicy = aws_error("NoSuchBucketPolicy", 404)
NoSuchTagSet = aws_error("NoSuchTagSet", 404)
NoSuchPublicAccessBlockConfiguration = aws_error("NoSuchPublicAccessBlockConfiguration", 404)
BucketAlreadyExists = aws_error("BucketAlreadyExists", 409)
BucketAlreadyOwnedByYou = aws_error("BucketAlreadyOwnedByYou", 409)
BucketNotEmpty = aws_error("BucketNotEmpty", 409)
InvalidBucketName = aws_error("InvalidBucketName", 400)
MalformedPolicy = aws_error("MalformedPolicy", 400)
InvalidTag = aws_error("InvalidTag", 400)
BadRequest = aws_error("BadRequest", 400)
InvalidRange = aws_error("InvalidRange", 416)
InvalidPartNumber = aws_error("InvalidPartNumber", 416)
PreconditionFailed = aws_error("PreconditionFailed", 412)
NotModified = aws_error("NotModified", 304)
InvalidPart = aws_error("InvalidPart", 400)
InvalidPartOrder = aws_error("InvalidPartOrder", 400)
EntityTooSmall = aws_error("EntityTooSmall", 400)
InvalidLocationConstraint = aws_error("InvalidLocationConstraint", 400)
IllegalLocationConstraintException = aws_error("IllegalLocationConstraintException", 400)
TooManyBuckets = aws_error("TooManyBuckets", 400)
AccessControlListNotSupported = aws_error("AccessControlListNotSupported", 400)
InternalError = aws_error("InternalError", 500, sender_fault=False)
NotImplementedFeature = aws_error("NotImplemented", 501, sender_fault=False)


def access_denied() -> AwsError:
    return AccessDenied(ACCESS_DENIED)


def no_such_bucket(bucket: str) -> AwsError:
    return NoSuchBucket("The specified bucket does not exist", BucketName=bucket)


def no_such_key(key: str) -> AwsError:
    return NoSuchKey("The specified key does not exist.", Key=key)


def no_such_upload(upload_id: str) -> AwsError:
    return NoSuchUpload(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted"
        " or completed.",
        UploadId=upload_id,
    )


def malformed_xml() -> AwsError:
    return MalformedXML("The XML you provided was not well-formed or did not validate against our published schema")


def precondition_failed(condition: str) -> AwsError:
    return PreconditionFailed("At least one of the pre-conditions you specified did not hold", Condition=condition)


def entity_too_large(size: int, limit: int = MAX_PART_SIZE) -> AwsError:
    return EntityTooLarge(
        "Your proposed upload exceeds the maximum allowed size", ProposedSize=str(size), MaxSizeAllowed=str(limit)
    )


# The errors botocore's S3 model declares (a test checks code and status against it).
MODELED: tuple[type[AwsError], ...] = (
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    InvalidRequest,
)
