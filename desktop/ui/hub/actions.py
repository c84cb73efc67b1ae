"""What the Hub's menus and the Discover page's buttons do: work offline, sign in with a token,
say what a repository holds, queue a download and tell how it ended."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

from desktop.gguf.model_kind import kind_label, kind_tip
from desktop.hub.download import copy_on_disk
from desktop.hub.quants import QuantChoice
from desktop.hub.token import save_token
from desktop.ui.shell.jobs import JobRunner
from desktop.units import count_of, format_bytes, format_count

if TYPE_CHECKING:
    from desktop.ui.shell.main_window import MainWindow


class HubActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._jobs = JobRunner(self)

    def set_offline(self, offline: bool) -> None:
        """The setting is saved at once: the download and engine processes read it too."""
        self._window.context.settings.offline = offline
        self._window.storage.save_settings(self._window.context.settings)
        self._window.menu_actions.offline.setChecked(offline)
        discover = self._window.discover
        if offline:
            self._window.hub.show_starters()
            discover.show_status(
                "Offline mode: Hearth opens no network connection. Hub ▸ Work offline turns it off."
            )
        else:
            discover.show_status("")

    def ask_token(self) -> None:
        token, ok = QInputDialog.getText(
            self._window,
            "Hugging Face token",
            "Paste an access token from huggingface.co/settings/tokens (read access is enough).\n"
            "It is kept in huggingface_hub's own token store, shared with the `hf` command.",
            QLineEdit.EchoMode.Password,
        )
        if ok and token.strip():
            self._window.statusBar().showMessage("Checking the token with the Hub…")
            self._jobs.start(
                lambda: save_token(token),
                lambda name: self._window.statusBar().showMessage(f"Signed in to the Hub as {name}.", 8000),
                self._token_refused,
            )

    def _token_refused(self, exc: BaseException) -> None:
        self._window.statusBar().clearMessage()
        QMessageBox.warning(self._window, "Hugging Face token", str(exc))

    def hub_error(self, message: str, offline: bool) -> None:
        self._window.discover.show_status(message, "error" if message else "info")
        if offline and not self._window.context.settings.offline:
            # Only when the Hub was tried: working offline by choice is said on the page already.
            self._window.statusBar().showMessage("Offline: the Hub can't be reached", 6000)

    def repo_opened(self, repo_id: str) -> None:
        report = self._window.hub.quants.report
        if report is None:
            return
        models = [c for c in report.choices if c.kind == "model"]
        facts = [count_of(len(models), "quantisation")]
        if report.parameters:
            facts.append(f"{format_count(report.parameters)} parameters")
        if report.has_chat_template is not None:  # once the header has said
            facts.append(kind_label(report.has_chat_template))
        facts.append(f"memory needed at {report.context:,} tokens of context")
        tip = kind_tip(report.has_chat_template)
        self._window.discover.show_repo(repo_id, len(models), " · ".join(facts), tip)

    def download(self, repo_id: str, choice: QuantChoice) -> None:
        wanted = choice.files[0].filename  # a shard names its whole model
        label = f"{repo_id} · {choice.name}"
        if self._window.downloads.enqueue(repo_id, wanted, label, choice.size_bytes) is None:
            self._window.statusBar().showMessage(
                f"{choice.name} of {repo_id} is already in the downloads.", 5000
            )

    def local_copy(self, repo_id: str, choice: QuantChoice) -> Path | None:
        return copy_on_disk(self._window.context.models_dir, repo_id, choice.files)

    def download_finished(self, path: str) -> None:
        name = Path(path).name
        self._window.discover.show_status(f"Downloaded and verified: {name}")
        self._window.statusBar().showMessage(
            f"Downloaded {name} ({format_bytes(Path(path).stat().st_size)})", 6000
        )
        self._window.refresh_selecting(path)
        self._window.discover.refresh_download_button()

    def download_failed(self, message: str) -> None:
        self._window.discover.show_status(f"Download failed: {message}", "error")
        self._window.statusBar().showMessage("Download failed", 6000)

    def download_cancelled(self) -> None:
        self._window.discover.show_status("Download cancelled.")
        self._window.statusBar().showMessage("Download cancelled", 4000)

    def _say(self, text: str, ms: int) -> None:
        self._window.statusBar().showMessage(text, ms)

    def shutdown(self) -> None:
        self._jobs.wait()
