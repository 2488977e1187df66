"""Buckets through the service path, on the memory and SQLite stores: naming rules, the global namespace,
regions, listing per account, deletion rules, location, bucket tags; S3's error codes against botocore."""

from __future__ import annotations

import botocore.session
import pytest
from s3_support import S3World
from services_support import DEV, PROD

from rolegate.errors import AwsError
from rolegate.services.dispatch import RequestFacts
from rolegate.services.s3.errors import MODELED


def error_of(excinfo: pytest.ExceptionInfo[AwsError]) -> tuple[str, int, str]:
    return excinfo.value.code, excinfo.value.http_status, excinfo.value.message


def test_modeled_errors_match_botocore() -> None:
    model = botocore.session.get_session().get_service_model("s3")
    for error in MODELED:
        shape = model.shape_for(error.code)
        assert shape.metadata["exception"] is True
        assert shape.metadata["error"]["httpStatusCode"] == error.http_status


@pytest.mark.parametrize(
    "name",
    ["abc", "my-bucket", "my.bucket.1", "a" * 63, "0-9", "bucket-s3alias-not-suffix"],
)
def test_valid_bucket_names_are_accepted(s3: S3World, name: str) -> None:
    root = s3.account(DEV)
    assert s3.s3(root, "CreateBucket", Bucket=name) == {"Location": f"/{name}"}


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "MyBucket",
        "my_bucket",
        "-bucket",
        "bucket-",
        "bucket.",
        "my..bucket",
        "192.168.5.4",
        "xn--bucket",
        "sthree-bucket",
        "bucket-s3alias",
        "bucket--ol-s3",
        "bücket",
    ],
)
def test_invalid_bucket_names_are_refused(s3: S3World, name: str) -> None:
    root = s3.account(DEV)
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "CreateBucket", Bucket=name)
    assert error_of(excinfo) == ("InvalidBucketName", 400, "The specified bucket is not valid.")
    assert excinfo.value.extra == {"BucketName": name}


def test_bucket_names_are_global_across_accounts(s3: S3World) -> None:
    dev, prod = s3.account(DEV), s3.account(PROD)
    s3.bucket(prod, "shared-name")
    with pytest.raises(AwsError) as excinfo:
        s3.s3(dev, "CreateBucket", Bucket="shared-name")
    assert excinfo.value.code == "BucketAlreadyExists" and excinfo.value.http_status == 409
    assert excinfo.value.message.startswith("The requested bucket name is not available.")
    # us-east-1 answers 200 to the owner re-creating its bucket (S3's legacy behaviour)
    assert s3.s3(prod, "CreateBucket", Bucket="shared-name") == {"Location": "/shared-name"}


def test_owner_recreating_a_bucket_outside_us_east_1_gets_already_owned(s3: S3World) -> None:
    root = s3.account(DEV)
    facts = RequestFacts("req-eu", region="eu-west-1")
    config = {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}
    s3.services.invoke(root, "s3", "CreateBucket", {"Bucket": "eu-bucket", **config}, facts)
    with pytest.raises(AwsError) as excinfo:
        s3.services.invoke(root, "s3", "CreateBucket", {"Bucket": "eu-bucket", **config}, facts)
    assert error_of(excinfo) == (
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
    )
    location = s3.services.invoke(root, "s3", "GetBucketLocation", {"Bucket": "eu-bucket"}, facts)
    assert location == {"LocationConstraint": "eu-west-1"}
    head = s3.services.invoke(root, "s3", "HeadBucket", {"Bucket": "eu-bucket"}, facts)
    assert head["BucketRegion"] == "eu-west-1"


def test_location_constraints_follow_s3(s3: S3World) -> None:
    root = s3.account(DEV)
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "CreateBucket", Bucket="bucket-1", CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error_of(excinfo) == ("InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "CreateBucket", Bucket="bucket-2", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert excinfo.value.code == "IllegalLocationConstraintException"
    assert "eu-west-1 location constraint is incompatible" in excinfo.value.message
    with pytest.raises(AwsError) as excinfo:
        s3.services.invoke(root, "s3", "CreateBucket", {"Bucket": "bucket-3"}, RequestFacts("r", region="eu-west-1"))
    assert excinfo.value.message.startswith("The unspecified location constraint is incompatible")
    assert s3.s3(root, "GetBucketLocation", Bucket=s3.bucket(root, "bucket-4")) == {"LocationConstraint": ""}


def test_list_buckets_shows_only_the_callers_account(s3: S3World) -> None:
    dev, prod = s3.account(DEV), s3.account(PROD)
    for name in ("dev-b", "dev-a"):
        s3.bucket(dev, name)
    s3.bucket(prod, "prod-a")
    listed = s3.s3(dev, "ListBuckets")
    assert [b["Name"] for b in listed["Buckets"]] == ["dev-a", "dev-b"]
    assert listed["Buckets"][0]["BucketRegion"] == "us-east-1"
    assert len(listed["Owner"]["ID"]) == 64
    assert [b["Name"] for b in s3.s3(prod, "ListBuckets")["Buckets"]] == ["prod-a"]
    first = s3.s3(dev, "ListBuckets", MaxBuckets=1)
    assert [b["Name"] for b in first["Buckets"]] == ["dev-a"]
    rest = s3.s3(dev, "ListBuckets", MaxBuckets=1, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == ["dev-b"] and "ContinuationToken" not in rest
    assert [b["Name"] for b in s3.s3(dev, "ListBuckets", Prefix="dev-b")["Buckets"]] == ["dev-b"]


def test_head_and_delete_of_missing_buckets(s3: S3World) -> None:
    root = s3.account(DEV)
    for operation in ("HeadBucket", "DeleteBucket", "GetBucketLocation", "ListObjectsV2", "GetBucketTagging"):
        with pytest.raises(AwsError) as excinfo:
            s3.s3(root, operation, Bucket="nowhere")
        assert error_of(excinfo) == ("NoSuchBucket", 404, "The specified bucket does not exist")
        assert excinfo.value.extra == {"BucketName": "nowhere"}


def test_delete_bucket_refuses_a_bucket_with_objects(s3: S3World) -> None:
    root = s3.account(DEV)
    s3.bucket(root, "full")
    s3.put(root, "full", "k")
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "DeleteBucket", Bucket="full")
    assert error_of(excinfo) == ("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
    s3.s3(root, "DeleteObject", Bucket="full", Key="k")
    upload = s3.s3(root, "CreateMultipartUpload", Bucket="full", Key="pending")["UploadId"]
    assert s3.s3(root, "DeleteBucket", Bucket="full") == {}
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "HeadBucket", Bucket="full")
    assert excinfo.value.code == "NoSuchBucket"
    s3.bucket(root, "full")  # the name is free again, and the old upload is gone with the old bucket
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "ListParts", Bucket="full", Key="pending", UploadId=upload)
    assert excinfo.value.code == "NoSuchUpload"


def test_bucket_tagging_round_trip_and_limits(s3: S3World) -> None:
    root = s3.account(DEV)
    s3.bucket(root, "tagged")
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "GetBucketTagging", Bucket="tagged")
    assert error_of(excinfo) == ("NoSuchTagSet", 404, "The TagSet does not exist")
    tags = [{"Key": "team", "Value": "data"}, {"Key": "env", "Value": ""}]
    assert s3.s3(root, "PutBucketTagging", Bucket="tagged", Tagging={"TagSet": tags}) == {}
    assert s3.s3(root, "GetBucketTagging", Bucket="tagged") == {"TagSet": tags}
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "PutBucketTagging", Bucket="tagged", Tagging={"TagSet": too_many})
    assert excinfo.value.http_status == 400
    for bad, message in [
        ({"Key": "k" * 129, "Value": "v"}, "The TagKey you have provided is too long, max 128"),
        ({"Key": "k", "Value": "v" * 257}, "The TagValue you have provided is too long, max 256"),
        ({"Key": "aws:reserved", "Value": "v"}, "Your TagKey cannot be prefixed with aws:"),
    ]:
        with pytest.raises(AwsError) as excinfo:
            s3.s3(root, "PutBucketTagging", Bucket="tagged", Tagging={"TagSet": [bad]})
        assert error_of(excinfo) == ("InvalidTag", 400, message)
    duplicate = [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "PutBucketTagging", Bucket="tagged", Tagging={"TagSet": duplicate})
    assert error_of(excinfo) == ("InvalidTag", 400, "Cannot provide multiple Tags with the same key")
    assert s3.s3(root, "GetBucketTagging", Bucket="tagged") == {"TagSet": tags}
    assert s3.s3(root, "DeleteBucketTagging", Bucket="tagged") == {}
    with pytest.raises(AwsError) as excinfo:
        s3.s3(root, "GetBucketTagging", Bucket="tagged")
    assert excinfo.value.code == "NoSuchTagSet"
