"""How the main window opens its stores and says when one can't be used.

The window opens anyway: the part that needs the file (chats, the library's hidden and used
lists, compare, saved settings, the download queue) is off, a banner says why and what to do,
and moving the file aside from the banner starts that part afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.chats.store import ConversationStore
from desktop.db import StorageError
from desktop.settings import Settings, save_settings, settings_problem
from desktop.ui.shell.storage_notice import StorageNotices

if TYPE_CHECKING:
    from desktop.ui.shell.main_window import MainWindow

CHATS_OFF = "Chats are off until then."
QUEUE_KEPT = "The download queue is kept until Hearth closes."
CHANGES_KEPT = "Nothing saved before is lost, and what could not be saved stays on screen."


class WindowStorage:
    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self.notices = StorageNotices()
        self.notices.moved.connect(lambda text: window.statusBar().showMessage(text, 10_000))
        self.history_problem: StorageError | None = None

    def open_history(self) -> ConversationStore:
        """The chat history, or an empty one in memory when the file can't be used: nothing is
        written anywhere then, and ``history_problem`` says why."""
        try:
            return ConversationStore(self._window.context.paths.chats_db)
        except StorageError as exc:
            self.history_problem = exc
            return ConversationStore(Path(":memory:"))

    def window_built(self) -> None:
        """Says what was found at start, once the window's parts exist."""
        window = self._window
        if self.history_problem is not None:
            window.chat_pane.refuse("Chats are off: the notice at the top of the window says why.")
            self.show(self.history_problem, CHATS_OFF, self.reopen_history)
        self.show(settings_problem(window.context.paths), "Hearth is using its default settings.")
        self.show(window.downloads.problem, QUEUE_KEPT)
        window.downloads.storage_problem.connect(lambda exc: self.show(exc, QUEUE_KEPT))
        window.library.storage_problem.connect(self.library_problem)
        window.chat.storage_problem.connect(lambda exc: self.show(exc, CHANGES_KEPT))
        window.chat.history_saved.connect(self.history_saved)

    def show(
        self, problem: StorageError | None, consequence: str, reopen: Callable[[], object] | None = None
    ) -> None:
        if problem is not None:
            self.notices.show_problem(problem, consequence, reopen)

    def library_problem(self, problem: StorageError | None) -> None:
        if problem is None:
            self.notices.clear(self._window.context.paths.library_db)
        else:
            consequence = "Hidden models and when each was last used are off; every model is listed."
            self.show(problem, consequence, self._window.library.refresh)

    def history_saved(self) -> None:
        """A reply was saved: a banner about an earlier failed save no longer holds."""
        if self.history_problem is None:
            self.notices.clear(self._window.context.paths.chats_db)

    def reopen_history(self) -> None:
        window = self._window
        try:
            store = ConversationStore(window.context.paths.chats_db)
        except StorageError as exc:
            self.show(exc, CHATS_OFF, self.reopen_history)
            return
        window.store.close()
        window.store = store
        self.history_problem = None
        window.chat_pane.allow()
        window.chat.replace_store(store)

    def save_settings(self, settings: Settings) -> None:
        try:
            save_settings(settings, self._window.context.paths)
        except StorageError as exc:
            self.show(exc, "Your changes apply until Hearth closes.")
