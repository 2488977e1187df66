"""Shell lines that put a session into the current shell: `eval "$(rolegate assume ROLE --export)"` (bash, zsh),
`rolegate assume ROLE --export | source` (fish), `rolegate assume ROLE --export | Invoke-Expression` (PowerShell).

Values are quoted for the target shell, so no credential or URL can inject a command.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping

SHELLS = ("bash", "zsh", "fish", "powershell")
# Variables that would shadow or contradict the exported keys if left from an earlier session.
STALE = ("AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def detect_shell(environ: Mapping[str, str]) -> str:
    """The user's shell from $SHELL; PowerShell when only its module path is set (Windows)."""
    name = os.path.basename(environ.get("SHELL", "")).lower().removesuffix(".exe")
    if name in ("fish", "zsh", "bash"):
        return name
    if name in ("pwsh", "powershell") or (not name and "PSModulePath" in environ):
        return "powershell"
    return "bash"


def export_lines(variables: Mapping[str, str], unset: tuple[str, ...], shell: str) -> list[str]:
    """Set `variables` and unset `unset`, in `shell`'s syntax."""
    if shell == "fish":
        sets = [f"set -gx {name} {_fish_quote(value)};" for name, value in variables.items()]
        return sets + [f"set -e {name};" for name in unset]
    if shell == "powershell":
        sets = [f"$env:{name} = {_powershell_quote(value)}" for name, value in variables.items()]
        return sets + [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in unset]
    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()] + (
        [f"unset {' '.join(unset)}"] if unset else []
    )


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
