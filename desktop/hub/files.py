"""A repository's files, with the sizes and sha256 the Hub records for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from desktop.gguf_names import quant_from_name
from desktop.hub.api import hub_api
from desktop.hub.errors import HubError, describe_hub_error

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


@dataclass(frozen=True)
class HubFile:
    filename: str
    size_bytes: int | None
    sha256: str | None  # from the LFS metadata; None for small files stored in git
    quant: str | None  # None for files that are not model weights, projectors included


@dataclass(frozen=True)
class RepoFiles:
    repo_id: str
    commit: str | None
    files: list[HubFile]

    def find(self, filename: str) -> HubFile | None:
        return next((f for f in self.files if f.filename == filename), None)


def check_repo_id(repo_id: str) -> str:
    """Refuse anything that is not ``owner/name``: it becomes a folder path in the library."""
    if not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise HubError(f"'{repo_id}' is not a Hub repository id (expected owner/name).")
    return repo_id


def list_files(repo_id: str) -> RepoFiles:
    check_repo_id(repo_id)
    try:
        info = hub_api().model_info(repo_id, files_metadata=True)
    except Exception as exc:
        raise describe_hub_error(exc, repo_id=repo_id) from exc
    files = [
        HubFile(
            filename=s.rfilename,
            size_bytes=s.size,
            sha256=s.lfs.sha256 if s.lfs else None,
            quant=quant_from_name(s.rfilename),
        )
        for s in info.siblings or []
    ]
    return RepoFiles(repo_id=repo_id, commit=info.sha, files=files)
