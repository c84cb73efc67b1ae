"""The main window's menus and the actions in them, with their shortcuts; the window connects them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow

from desktop.ui.style.theme import THEME_MODES


class MenuActions:
    def __init__(
        self, window: QMainWindow, *, offline: bool, theme: str, on_theme: Callable[[str], None]
    ) -> None:
        file_menu = window.menuBar().addMenu("&File")
        self.new_chat = QAction("&New chat", window, shortcut=QKeySequence(QKeySequence.StandardKey.New))
        self.refresh = QAction("&Refresh library", window, shortcut=QKeySequence("F5"))
        self.find = QAction("&Search the Hub", window, shortcut=QKeySequence("Ctrl+K"))
        self.import_file = QAction(
            "&Import model file…", window, shortcut=QKeySequence(QKeySequence.StandardKey.Open)
        )
        self.watch = QAction("&Add a folder of models…", window)
        quit_action = QAction("&Quit", window, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(window.close)
        for action in (
            self.new_chat,
            self.refresh,
            self.find,
            self.import_file,
            self.watch,
        ):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        hub_menu = window.menuBar().addMenu("H&ub")
        self.offline = QAction("Work &offline", window, checkable=True)
        self.offline.setToolTip("Open no network connection at all; local models keep working")
        self.offline.setChecked(offline)
        self.token = QAction("Hugging Face &token…", window)
        self.token.setToolTip("For gated models: a token from your Hugging Face account")
        hub_menu.addAction(self.offline)
        hub_menu.addAction(self.token)
        chat_menu = window.menuBar().addMenu("&Chat")
        self.regenerate = QAction("&Regenerate reply", window, shortcut=QKeySequence("Ctrl+R"))
        self.regenerate.setToolTip("A new reply in place of the last one; the old one stays as a branch")
        self.chat_settings = QAction("Chat &settings…", window, shortcut=QKeySequence("Ctrl+,"))
        self.search_chats = QAction(
            "Search &chats", window, shortcut=QKeySequence(QKeySequence.StandardKey.Find)
        )
        self.choose_model = QAction("Choose &model…", window, shortcut=QKeySequence("Ctrl+L"))
        self.choose_model.setToolTip("Open the chat's model picker: choosing a model loads it")
        self.copy_reply = QAction("&Copy last reply", window, shortcut=QKeySequence("Ctrl+Shift+C"))
        self.export_chat = QAction("&Export chat…", window, shortcut=QKeySequence("Ctrl+Shift+E"))
        for action in (
            self.choose_model,
            self.regenerate,
            self.copy_reply,
            self.chat_settings,
            self.search_chats,
            self.export_chat,
        ):
            chat_menu.addAction(action)
        self.view_menu = view_menu = window.menuBar().addMenu("&View")
        self.chat_list = QAction("Chat &list", window, checkable=True, shortcut=QKeySequence("Ctrl+B"))
        self.chat_list.setToolTip("Show or hide the list of chats beside the conversation")
        self.chat_list.setChecked(True)
        view_menu.addAction(self.chat_list)
        view_menu.addSeparator()
        theme_menu = view_menu.addMenu("&Theme")
        themes = QActionGroup(window)
        self.themes: dict[str, QAction] = {}
        for mode, label in THEME_MODES.items():
            action = QAction(label, window, checkable=True)
            action.setChecked(mode == theme)
            action.setData(mode)
            themes.addAction(action)
            theme_menu.addAction(action)
            self.themes[mode] = action
            action.triggered.connect(lambda _checked=False, m=mode: on_theme(m))
        self.themes["system"].setToolTip("Light or dark as the desktop is")
        engine_menu = window.menuBar().addMenu("&Engine")
        self.engine_settings = QAction("Engine &settings…", window)
        self.engine_settings.setToolTip("Context, threads, GPU layers, batch, KV cache, mmap, idle unload")
        self.unload = QAction("&Unload model", window)
        self.unload.setToolTip("Unload the model and return its memory")
        engine_menu.addAction(self.engine_settings)
        engine_menu.addAction(self.unload)
        compare_menu = window.menuBar().addMenu("C&ompare")
        self.compare = QAction("&Compare models…", window, shortcut=QKeySequence("Ctrl+Shift+M"))
        self.compare.setToolTip("Side by side, blind arena, speed and quality of your models")
        self.make_quant = QAction("&Make a quant…", window, shortcut=QKeySequence("Ctrl+Shift+Q"))
        self.make_quant.setToolTip("Another quantisation of an F16, BF16 or Q8_0 model")
        compare_menu.addAction(self.compare)
        compare_menu.addAction(self.make_quant)
        help_menu = window.menuBar().addMenu("&Help")
        self.about = QAction("&About Hearth", window)
        help_menu.addAction(self.about)

    def add_sections(self, sections: Iterable[QAction]) -> None:
        """The pages (Chat, Discover, My models, Compare), first in the View menu."""
        first = self.view_menu.actions()[0]
        for action in sections:
            self.view_menu.insertAction(first, action)
        self.view_menu.insertSeparator(first)
