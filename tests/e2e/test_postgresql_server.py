"""`rolegate serve --database-url postgresql+psycopg://...` with two worker processes: the assume-role walk
through (a user in one account, a role in another, S3 with the temporary credentials) with every record in
a real PostgreSQL server, and the world still there after a restart."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import sqlalchemy
from awscli_support import ADMIN_DOCUMENT, client_error, management_admin, member_account
from e2e_support import live_server

BUCKET = "pg-walkthrough"


def test_the_walkthrough_runs_on_postgresql_across_processes_and_restarts(tmp_path: Path, postgres_url: str) -> None:
    data = tmp_path / "data"
    with live_server(data, "--database-url", postgres_url, "--workers", "2") as server:
        admin = management_admin(server)
        prod = member_account(admin, "prod")
        dev = admin.user("dev-user", ADMIN_DOCUMENT)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{dev.account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        prod_iam = prod.client("iam")
        role = prod_iam.create_role(RoleName="writer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        writes = {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"}
        prod_iam.put_role_policy(
            RoleName="writer",
            PolicyName="s3",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [writes]}),
        )
        prod.client("s3").create_bucket(Bucket=BUCKET)

        writer = dev.assume(role, "lambda")
        assert writer.key_id.startswith("ASIA")
        s3 = writer.client("s3")
        for number in range(6):  # new connections: both processes serve some
            s3.put_object(Bucket=BUCKET, Key=f"report-{number}.txt", Body=f"report {number}".encode())
        assert s3.get_object(Bucket=BUCKET, Key="report-5.txt")["Body"].read() == b"report 5"
        assert client_error(s3.delete_object, Bucket=BUCKET, Key="report-0.txt")[:1] == ("AccessDenied",)

    with live_server(data, "--database-url", postgres_url) as again:
        same_user = dataclasses.replace(dev, server=again)
        assert same_user.client("sts").get_caller_identity()["Arn"] == dev.arn
        later = same_user.assume(role, "later").client("s3")
        assert later.get_object(Bucket=BUCKET, Key="report-0.txt")["Body"].read() == b"report 0"
    # The records are PostgreSQL's: no SQLite file, and the objects' rows are in this test's schema.
    assert not list(data.glob("*.sqlite*"))
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            keys = connection.exec_driver_sql("SELECT key FROM s3_objects WHERE bucket = %(b)s", {"b": BUCKET})
            assert sorted(row[0] for row in keys) == [f"report-{n}.txt" for n in range(6)]
    finally:
        engine.dispose()
