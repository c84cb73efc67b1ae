"""The blind arena: two anonymous models answer, the person votes, ratings follow."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.app.side_by_side import CompareColumn
from desktop.chats.message_html import model_label
from desktop.compare.leaderboard import MIN_VOTES, Standing, Vote, standings
from desktop.compare.results import CompareStore
from desktop.db import StorageError
from desktop.library.scan import LocalModel
from desktop.settings import SettingsStore
from desktop.ui.compare.columns import ColumnsRunner, ModelChecklist
from desktop.ui.compare.side import CATEGORIES, ColumnsArea, PromptBox, SamplingRow
from desktop.ui.widgets.record_table import record_table
from desktop.ui.widgets.table_model import RecordTableModel, TableColumn


def _interval_text(s: Standing) -> str:
    return f"{s.low:.0f} – {s.high:.0f}" if s.low is not None and s.high is not None else "needs more votes"


def _interval_tooltip(s: Standing) -> str:
    if s.interval is None:
        return (
            f"A 95% interval needs at least {MIN_VOTES} votes with this model, and votes that"
            f" differ; it has {s.games}."
        )
    return "Where the rating would likely be with other votes like these"


def _standing_columns() -> list[TableColumn[Standing]]:
    return [
        TableColumn("Model", lambda s: model_label(s.model)),
        TableColumn("Rating", lambda s: f"{s.rating:.0f}", lambda s: s.rating, numeric=True),
        TableColumn(
            "95% interval",
            _interval_text,
            lambda s: s.high - s.low if s.high is not None and s.low is not None else math.inf,
            numeric=True,
            tooltip=_interval_tooltip,
        ),
        TableColumn("Votes", lambda s: str(s.games), lambda s: s.games, numeric=True),
        TableColumn("Wins", lambda s: f"{s.wins:g}", lambda s: s.wins, numeric=True),
    ]


class ArenaTab(QWidget):
    """Two hidden models answer; the person votes, then sees which was which."""

    needs = "Blind arena: check 2 or more models; two of them, hidden, answer each prompt."

    def __init__(
        self,
        settings: SettingsStore,
        store: CompareStore,
        models: ModelChecklist,
        parent: QWidget | None = None,
        choose: Callable[[list[LocalModel]], list[LocalModel]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._choose = choose or (lambda pool: random.sample(pool, 2))
        self._prompt = ""
        self.models = models  # the page's list, shared with the other tabs
        self.category = QComboBox()
        self.category.addItems(CATEGORIES)
        self.category.setAccessibleName("Prompt category")
        self.sampling = SamplingRow()
        self.area = ColumnsArea()
        self.area.set_titles(["A", "B"])
        self.prompt = PromptBox("A prompt; two of the checked models answer without their names…")
        self.votes = [
            QPushButton("A is better"),
            QPushButton("B is better"),
            QPushButton("Tie"),
            QPushButton("Both are bad"),
        ]
        for button, key in zip(self.votes, ("1", "2", "3", "4"), strict=True):
            button.setEnabled(False)
            button.setShortcut(QKeySequence(f"Alt+{key}"))
        self.reveal = QLabel()
        self.reveal.setAccessibleName("Which model was which")
        self.board_filter = QComboBox()
        self.board_filter.addItem("All categories", None)
        for category in CATEGORIES:
            self.board_filter.addItem(category, category)
        self.board_filter.setAccessibleName("Leaderboard category")
        self.board_model: RecordTableModel[Standing] = RecordTableModel(_standing_columns(), self)
        self.board = record_table(self.board_model, "Leaderboard")  # type: ignore[arg-type]
        self.runner = ColumnsRunner(settings, self)

        top = QHBoxLayout()
        top.addWidget(QLabel("Category"))
        top.addWidget(self.category)
        top.addWidget(self.sampling, 1)
        vote_row = QHBoxLayout()
        for button in self.votes:
            vote_row.addWidget(button)
        vote_row.addWidget(self.reveal, 1)
        board_head = QHBoxLayout()
        board_head.addWidget(QLabel("Your leaderboard"))
        board_head.addStretch(1)
        board_head.addWidget(self.board_filter)
        right = QVBoxLayout()
        right.addLayout(top)
        right.addWidget(self.area, 3)
        right.addLayout(vote_row)
        right.addWidget(self.prompt)
        right.addLayout(board_head)
        right.addWidget(self.board, 2)
        self.setLayout(right)

        self.prompt.sent.connect(self.send)
        self.prompt.stopped.connect(self.runner.stop)
        self.runner.column_changed.connect(self._show_column)
        self.runner.finished.connect(self._finished)
        self.models.changed.connect(self._pool_changed)
        self.board_filter.currentIndexChanged.connect(self.refresh_board)
        for button, outcome in zip(self.votes, ("a", "b", "tie", "both_bad"), strict=True):
            button.clicked.connect(lambda _=False, o=outcome: self.vote(o))
        self._pool_changed()
        self.refresh_board()

    def _pool_changed(self) -> None:
        self.prompt.set_busy(self.runner.busy, can_send=len(self.models.checked()) >= 2)

    def send(self, prompt: str) -> None:
        pool = self.models.checked()
        if len(pool) < 2:
            self.reveal.setText("The arena needs two or more checked models.")
            return
        a, b = self._choose(pool)
        self._prompt = prompt
        self.runner.set_columns([CompareColumn(str(a.path), "A"), CompareColumn(str(b.path), "B")])
        self.area.set_titles(["A", "B"])
        for view in self.area.views:
            view.figures.hide()  # speed and memory would give the model away: shown after the vote
        for button in self.votes:
            button.setEnabled(False)
        self.reveal.setText("A and B are writing, one after the other…")
        self.prompt.set_busy(True)
        self.runner.send(prompt, self.sampling.sampling(), parallel=False)

    def _show_column(self, index: int) -> None:
        self.area.views[index].show_column(self.runner.columns[index], self.runner.writing(index))

    def _finished(self) -> None:
        for index in range(2):
            self._show_column(index)
        self.prompt.set_busy(False, can_send=len(self.models.checked()) >= 2)
        answered = all(c.stats is not None for c in self.runner.columns)
        for button in self.votes:
            button.setEnabled(answered)
        self.reveal.setText("Which answer is better?" if answered else "A reply is missing: send again.")

    def vote(self, outcome: str) -> None:
        a, b = self.runner.columns
        try:
            self._store.add_vote(
                Vote(a.model_path, b.model_path, outcome, self.category.currentText()), self._prompt
            )
        except StorageError as exc:  # the vote can be cast again once the history takes it
            self.reveal.setText(f"The vote was not kept: {exc}")
            return
        for button in self.votes:
            button.setEnabled(False)
        self.area.views[0].title.setText(f"A: {model_label(a.model_path)}")
        self.area.views[1].title.setText(f"B: {model_label(b.model_path)}")
        for view in self.area.views:
            view.figures.show()
        self.reveal.setText(f"A was {model_label(a.model_path)}; B was {model_label(b.model_path)}.")
        self.refresh_board()

    def refresh_board(self) -> None:
        category = self.board_filter.currentData()
        self.board_model.set_records(standings(self._store.votes(), category=category))
