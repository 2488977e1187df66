"""The real aws CLI's high-level S3 commands against a live server: `aws s3 ls`, and `aws s3 cp` up and down,
including a file over the CLI's 8 MiB multipart threshold (CreateMultipartUpload, UploadPart with CRC32
checksums, CompleteMultipartUpload; the download then comes back in ranged GETs), and `aws s3api
get-object-attributes`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from awscli_support import AwsCli
from e2e_support import ROOT_KEY_ID, ROOT_SECRET, LiveServer, live_server
from s3_e2e_support import MiB, s3_client

BUCKET = "cli-bucket"
LISTED_BUCKET = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (\S+)$")
LISTED_OBJECT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} +(\d+) (.+)$")


@dataclass(frozen=True)
class Setup:
    server: LiveServer
    cli: AwsCli
    s3: Any
    work: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with live_server(tmp_path_factory.mktemp("s3cli") / "data") as server:
        cli = AwsCli(tmp_path_factory.mktemp("s3cli-home"), server.endpoint)
        cli.set_credentials("default", ROOT_KEY_ID, ROOT_SECRET)
        s3 = s3_client(server)
        s3.create_bucket(Bucket=BUCKET)
        yield Setup(server, cli, s3, tmp_path_factory.mktemp("s3cli-files"))


def ok(setup: Setup, *args: str) -> str:
    result = setup.cli.run(*args)
    assert result.returncode == 0, f"aws {' '.join(args)}: {result.stderr}"
    return result.stdout


def test_aws_s3_ls_lists_the_accounts_buckets(setup: Setup) -> None:
    setup.s3.create_bucket(Bucket="cli-second")
    lines = ok(setup, "s3", "ls").splitlines()
    names = [match.group(1) for line in lines if (match := LISTED_BUCKET.match(line))]
    assert len(names) == len(lines)  # every line is "DATE TIME NAME"
    assert {BUCKET, "cli-second"} <= set(names)
    assert names == sorted(names)


def test_aws_s3_cp_small_file_up_and_down(setup: Setup) -> None:
    data = os.urandom(3000)
    source = setup.work / "small.bin"
    source.write_bytes(data)
    uploaded = ok(setup, "s3", "cp", str(source), f"s3://{BUCKET}/small/small.bin")
    assert re.search(rf"^upload: \S*/small\.bin to s3://{BUCKET}/small/small\.bin$", uploaded, re.M)
    head = setup.s3.head_object(Bucket=BUCKET, Key="small/small.bin")
    assert (head["ContentLength"], head["ETag"]) == (len(data), f'"{hashlib.md5(data).hexdigest()}"')
    target = setup.work / "small-copy.bin"
    downloaded = ok(setup, "s3", "cp", f"s3://{BUCKET}/small/small.bin", str(target))
    assert re.search(rf"^download: s3://{BUCKET}/small/small\.bin to \S*/small-copy\.bin$", downloaded, re.M)
    assert target.read_bytes() == data


def test_aws_s3_cp_multipart_upload_and_ranged_download(setup: Setup) -> None:
    data = os.urandom(9 * MiB + 4321)  # over the CLI's 8 MiB threshold: two parts
    source = setup.work / "large.bin"
    source.write_bytes(data)
    ok(setup, "s3", "cp", str(source), f"s3://{BUCKET}/large/large.bin")
    head = setup.s3.head_object(Bucket=BUCKET, Key="large/large.bin")
    assert head["ContentLength"] == len(data)
    part_md5s = hashlib.md5(data[: 8 * MiB]).digest() + hashlib.md5(data[8 * MiB :]).digest()
    assert head["ETag"] == f'"{hashlib.md5(part_md5s).hexdigest()}-2"'
    assert "Uploads" not in setup.s3.list_multipart_uploads(Bucket=BUCKET)
    target = setup.work / "large-copy.bin"
    ok(setup, "s3", "cp", f"s3://{BUCKET}/large/large.bin", str(target))
    assert target.stat().st_size == len(data)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_aws_s3_ls_shows_prefixes_and_objects(setup: Setup) -> None:
    for key in ("tree/a.txt", "tree/sub/b.txt", "tree/sub/c.txt"):
        setup.s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    top = [line.split() for line in ok(setup, "s3", "ls", f"s3://{BUCKET}/tree/").splitlines()]
    assert top[0] == ["PRE", "sub/"]
    assert top[1][2:] == [str(len(b"tree/a.txt")), "a.txt"]
    recursive = ok(setup, "s3", "ls", f"s3://{BUCKET}/tree/", "--recursive").splitlines()
    found = [(m.group(2), int(m.group(1))) for line in recursive if (m := LISTED_OBJECT.match(line))]
    assert found == [(k, len(k)) for k in ("tree/a.txt", "tree/sub/b.txt", "tree/sub/c.txt")]


def test_aws_s3_ls_of_a_missing_bucket(setup: Setup) -> None:
    result = setup.cli.run("s3", "ls", "s3://cli-no-such-bucket/")
    assert result.returncode != 0
    assert result.error == ("NoSuchBucket", "ListObjectsV2", "The specified bucket does not exist")


def test_aws_s3api_get_object_attributes(setup: Setup) -> None:
    data = os.urandom(2048)
    setup.s3.put_object(Bucket=BUCKET, Key="attributes/one.bin", Body=data, ChecksumAlgorithm="SHA256")
    args = ("s3api", "get-object-attributes", "--bucket", BUCKET, "--key", "attributes/one.bin")
    shown = json.loads(ok(setup, *args, "--object-attributes", "ETag", "Checksum", "ObjectSize", "StorageClass"))
    assert shown["ETag"] == hashlib.md5(data).hexdigest()
    sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert shown["Checksum"] == {"ChecksumSHA256": sha256, "ChecksumType": "FULL_OBJECT"}
    assert (shown["ObjectSize"], shown["StorageClass"]) == (len(data), "STANDARD")
    refused = setup.cli.run(*args, "--object-attributes", "Colour")
    assert refused.returncode != 0
    assert "InvalidArgument" in refused.stderr and "Invalid attribute name specified." in refused.stderr


def test_the_bucket_settings_tools_read_first(setup: Setup) -> None:
    """What Terraform and consoles read before anything else answers as S3 does for a new bucket."""
    bucket = ("--bucket", BUCKET)
    assert ok(setup, "s3api", "get-bucket-versioning", *bucket).strip() == ""  # never enabled: an empty answer
    encryption = json.loads(ok(setup, "s3api", "get-bucket-encryption", *bucket))
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}
    ownership = json.loads(ok(setup, "s3api", "get-bucket-ownership-controls", *bucket))
    assert ownership["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    acl = setup.s3.get_bucket_acl(Bucket=BUCKET)
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in acl["Grants"]] == [("CanonicalUser", "FULL_CONTROL")]
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"] == setup.s3.list_buckets()["Owner"]["ID"]
    setup.s3.put_object(Bucket=BUCKET, Key="acl/object.txt", Body=b"a")
    assert setup.s3.get_object_acl(Bucket=BUCKET, Key="acl/object.txt")["Grants"] == acl["Grants"]


def test_emptying_a_bucket_through_its_object_versions(setup: Setup) -> None:
    """The usual cleanup: boto3's `bucket.object_versions.delete()` (ListObjectVersions, then DeleteObjects
    with version "null"), after `aws s3api list-object-versions` shows one null version per object."""
    setup.s3.create_bucket(Bucket="cli-versions")
    for number in range(5):
        setup.s3.put_object(Bucket="cli-versions", Key=f"logs/{number}.txt", Body=b"v")
    listed = json.loads(ok(setup, "s3api", "list-object-versions", "--bucket", "cli-versions"))
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [
        (f"logs/{number}.txt", "null", True) for number in range(5)
    ]
    version = setup.s3.get_object(Bucket="cli-versions", Key="logs/0.txt", VersionId="null")
    assert (version["VersionId"], version["Body"].read()) == ("null", b"v")
    resource = boto3.resource(
        "s3",
        endpoint_url=setup.server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=ROOT_KEY_ID,
        aws_secret_access_key=ROOT_SECRET,
    )
    responses = resource.Bucket("cli-versions").object_versions.delete()
    assert sorted(d["Key"] for r in responses for d in r["Deleted"]) == [f"logs/{n}.txt" for n in range(5)]
    assert setup.s3.list_objects_v2(Bucket="cli-versions")["KeyCount"] == 0
    ok(setup, "s3", "rb", "s3://cli-versions")
