"""A repository's files, with the sizes and sha256 the Hub records for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop.gguf.names import quant_from_name
from desktop.hub.api import hub_api
from desktop.hub.describe import describe_hub_error
from desktop.hub.errors import HubError
from desktop.hub.limits import answer_limits
from desktop.safe_text import name_problem, printable

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


# The Hub's own limit on an owner's or a repository's name.
_REPO_PART_MAX = 96


@dataclass(frozen=True)
class HubFile:
    filename: str  # as the Hub gave it, with control characters shown as escapes (safe to print)
    size_bytes: int | None
    sha256: str | None  # from the LFS metadata; None for small files stored in git
    quant: str | None  # None for files that are not model weights, projectors included
    problem: str | None = None  # why the name is no safe file name (it is listed, never downloaded)


@dataclass(frozen=True)
class RepoFiles:
    repo_id: str
    commit: str | None
    files: list[HubFile]

    def find(self, filename: str) -> HubFile | None:
        return next((f for f in self.files if f.filename == filename), None)


def check_repo_id(repo_id: str) -> str:
    """Refuse anything that is not ``owner/name``: it becomes a folder path in the library."""
    if (
        not _REPO_ID.fullmatch(repo_id)
        or ".." in repo_id
        or any(len(part) > _REPO_PART_MAX for part in repo_id.split("/"))
    ):
        raise HubError(f"'{printable(repo_id)}' is not a Hub repository id (expected owner/name).")
    return repo_id


def list_files(repo_id: str) -> RepoFiles:
    check_repo_id(repo_id)
    try:
        with answer_limits():
            info = hub_api().model_info(repo_id, files_metadata=True)
    except Exception as exc:
        raise describe_hub_error(exc, repo_id=repo_id) from exc
    files = [_hub_file(s.rfilename, s.size, s.lfs.sha256 if s.lfs else None) for s in info.siblings or []]
    return RepoFiles(repo_id=repo_id, commit=info.sha, files=files)


def _hub_file(name: object, size: object, sha256: object) -> HubFile:
    """One file of a listing, its name made safe to show and judged as a file name."""
    raw = name if isinstance(name, str) else str(name)
    shown = printable(raw)
    return HubFile(
        filename=shown,
        size_bytes=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        sha256=sha256 if isinstance(sha256, str) else None,
        quant=quant_from_name(shown),
        problem=name_problem(raw),
    )
