"""`rolegate assume`: temporary role credentials for shells, profiles, commands and SDKs, against rolegate or
AWS alike. Imports botocore and the standard library only (an import-linter contract keeps it so)."""

from __future__ import annotations

from rolegate.client.assume import Assumer, RefreshingSource
from rolegate.client.cache import SessionCache, default_cache_dir
from rolegate.client.config import build_plan, load_profiles
from rolegate.client.errors import AssumeError, ClientProblem, UsageError
from rolegate.client.model import Hop, Plan, RoleSession, Setting, Source
from rolegate.client.options import AssumeOptions, load_policy, parse_duration, parse_tag
from rolegate.client.output import credential_process, environment, raw_json, summary
from rolegate.client.profiles import write_profile
from rolegate.client.run import run_command
from rolegate.client.shell import SHELLS, STALE, detect_shell, export_lines
from rolegate.client.windows import Freshness, freshness

__all__ = [
    "SHELLS",
    "STALE",
    "AssumeError",
    "AssumeOptions",
    "Assumer",
    "ClientProblem",
    "Freshness",
    "Hop",
    "Plan",
    "RefreshingSource",
    "RoleSession",
    "SessionCache",
    "Setting",
    "Source",
    "UsageError",
    "build_plan",
    "credential_process",
    "default_cache_dir",
    "detect_shell",
    "environment",
    "export_lines",
    "freshness",
    "load_policy",
    "load_profiles",
    "parse_duration",
    "parse_tag",
    "raw_json",
    "run_command",
    "summary",
    "write_profile",
]
