"""What the chat's menus do with a whole conversation: delete it, export it, copy its last reply."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from desktop.chats.export import export_text
from desktop.ui.shell.dialogs import confirm_chat_deletion

if TYPE_CHECKING:
    from desktop.ui.shell.main_window import MainWindow


class ChatActions:
    def __init__(self, window: MainWindow) -> None:
        self._window = window

    def delete(self, conversation_id: int) -> None:
        w = self._window
        conversation = w.store.conversation(conversation_id)
        if conversation is not None and confirm_chat_deletion(w, conversation.title):
            w.chat.delete(conversation_id)

    def export(self, conversation_id: int, path: Path) -> None:
        w = self._window
        conversation = w.store.conversation(conversation_id)
        if conversation is None:
            return
        messages = w.store.messages(conversation_id)
        text = export_text(conversation, messages, "json" if path.suffix.lower() == ".json" else "md")
        try:
            path.write_bytes(text.encode("utf-8"))
        except OSError as exc:
            QMessageBox.warning(w, "Export chat", f"Could not write {path}: {exc.strerror or exc}")
            return
        w.statusBar().showMessage(f"Exported to {path}", 5000)

    def choose_export(self, conversation_id: int) -> None:
        w = self._window
        conversation = w.store.conversation(conversation_id)
        if conversation is None:
            return
        safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in conversation.title).strip()
        name, chosen = QFileDialog.getSaveFileName(
            w,
            "Export chat",
            str(Path.home() / f"{safe or 'chat'}.md"),
            "Markdown (*.md);;JSON (*.json)",
        )
        if name:
            path = Path(name)
            if not path.suffix:
                path = path.with_suffix(".json" if "json" in chosen.lower() else ".md")
            self.export(conversation_id, path)

    def copy_last_reply(self) -> None:
        w = self._window
        conversation = w.chat.conversation
        messages = w.store.messages(conversation.id) if conversation else []
        reply = next((m for m in reversed(messages) if m.role == "assistant"), None)
        if reply is not None:
            QGuiApplication.clipboard().setText(reply.content)
            w.statusBar().showMessage("Reply copied", 3000)
