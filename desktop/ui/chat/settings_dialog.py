"""A conversation's settings: system prompt (with saved presets), sampling, context limit, mode."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.chats.chat_settings import CONTEXT_POLICIES, ChatSettings
from desktop.chats.store import Preset
from desktop.engine.protocol import Sampling

# Field, label, range, step, decimals, what it does.
_FLOATS = (
    (
        "temperature",
        "Temperature",
        (0.0, 2.0),
        0.05,
        2,
        "Higher is more varied, lower more predictable; 0 always picks the likeliest word.",
    ),
    (
        "top_p",
        "Top-p",
        (0.0, 1.0),
        0.01,
        2,
        "Only the likeliest words whose chances add up to this share are considered.",
    ),
    (
        "min_p",
        "Min-p",
        (0.0, 1.0),
        0.01,
        2,
        "Words less likely than this share of the likeliest word's chance are left out.",
    ),
    (
        "repeat_penalty",
        "Repeat penalty",
        (0.5, 2.0),
        0.01,
        2,
        "Above 1 makes repeating recent words less likely.",
    ),
)


class ChatSettingsDialog(QDialog):
    preset_saved = Signal(str, str)  # name, system prompt
    preset_deleted = Signal(str)

    def __init__(
        self,
        system_prompt: str,
        settings: ChatSettings,
        recommended: dict[str, float],
        presets: list[Preset],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Chat settings")
        self._recommended = recommended
        self._settings = settings
        self._presets = {p.name: p.system_prompt for p in presets}

        self.preset = QComboBox()
        self.preset.setAccessibleName("System prompt preset")
        self.save_preset_button = QPushButton("Save as preset…")
        self.delete_preset_button = QPushButton("Delete preset")
        self.system_prompt = QPlainTextEdit(system_prompt)
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setPlaceholderText("How the model should behave in this chat (optional)")
        self.system_prompt.setTabChangesFocus(True)
        self._fill_presets()

        presets_row = QHBoxLayout()
        presets_row.addWidget(QLabel("Preset:"))
        presets_row.addWidget(self.preset, 1)
        presets_row.addWidget(self.save_preset_button)
        presets_row.addWidget(self.delete_preset_button)
        prompt_box = QGroupBox("System prompt")
        prompt_layout = QVBoxLayout(prompt_box)
        prompt_layout.addLayout(presets_row)
        prompt_layout.addWidget(self.system_prompt)

        effective = settings.effective_sampling(recommended)
        self.floats: dict[str, QDoubleSpinBox] = {}
        sampling_box = QGroupBox("Sampling")
        form = QFormLayout(sampling_box)
        for name, label, (low, high), step, decimals, tip in _FLOATS:
            box = QDoubleSpinBox()
            box.setRange(low, high)
            box.setSingleStep(step)
            box.setDecimals(decimals)
            box.setValue(float(getattr(effective, name)))
            box.setToolTip(tip)
            box.setAccessibleName(label)
            self.floats[name] = box
            form.addRow(label, box)
        self.top_k = QSpinBox()
        self.top_k.setRange(0, 1000)
        self.top_k.setValue(effective.top_k)
        self.top_k.setToolTip("Only the k likeliest words are considered; 0 means no limit.")
        self.top_k.setAccessibleName("Top-k")
        form.addRow("Top-k", self.top_k)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 131072)
        self.max_tokens.setValue(effective.max_tokens)
        self.max_tokens.setToolTip("The longest reply, in tokens.")
        self.max_tokens.setAccessibleName("Max tokens")
        form.addRow("Max tokens", self.max_tokens)
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setSpecialValueText("Random")
        self.seed.setValue(effective.seed if effective.seed is not None else -1)
        self.seed.setToolTip(
            "The same seed, prompt and settings give the same reply. Random: a new one each time."
        )
        self.seed.setAccessibleName("Seed")
        form.addRow("Seed", self.seed)
        self.reset_button = QPushButton("Model's defaults")
        self.reset_button.setToolTip(
            "The values the model's file recommends where it has them, Hearth's defaults elsewhere"
        )
        source = (
            "this model's recommended values" if recommended else "Hearth's defaults (the model names none)"
        )
        self.source = QLabel(f"Starting from {source}.")
        self.source.setWordWrap(True)
        form.addRow(self.reset_button, self.source)

        self.policy = QComboBox()
        self.policy.setAccessibleName("At the context limit")
        for key, label in CONTEXT_POLICIES.items():
            self.policy.addItem(label, key)
        self.policy.setCurrentIndex(max(0, self.policy.findData(settings.context_policy)))
        self.policy.setToolTip("What happens when the conversation no longer fits the model's context")
        self.mode = QComboBox()
        self.mode.setAccessibleName("Mode")
        self.mode.addItem("Chat (the model's chat template)", "chat")
        self.mode.addItem("Notebook (plain text completion, for base models)", "notebook")
        self.mode.setCurrentIndex(max(0, self.mode.findData(settings.mode)))
        other = QFormLayout()
        other.addRow("At the context limit", self.policy)
        other.addRow("Mode", self.mode)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addWidget(prompt_box, 1)
        columns = QHBoxLayout()
        columns.addWidget(sampling_box)
        side = QVBoxLayout()
        side.addLayout(other)
        side.addStretch(1)
        columns.addLayout(side, 1)
        layout.addLayout(columns)
        layout.addWidget(buttons)
        self.resize(640, 560)

        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.preset.activated.connect(self._preset_chosen)
        self.save_preset_button.clicked.connect(self._save_preset)
        self.delete_preset_button.clicked.connect(self._delete_preset)
        self.reset_button.clicked.connect(self._reset_sampling)

    def _fill_presets(self, select: str | None = None) -> None:
        self.preset.clear()
        self.preset.addItem("—", None)
        for name in sorted(self._presets, key=str.lower):
            self.preset.addItem(name, name)
        current = select or next(
            (n for n, text in self._presets.items() if text == self.system_prompt.toPlainText()), None
        )
        self.preset.setCurrentIndex(max(0, self.preset.findData(current)) if current else 0)
        self.delete_preset_button.setEnabled(self.preset.currentData() is not None)

    def _preset_chosen(self, _row: int) -> None:
        name = self.preset.currentData()
        if name is not None:
            self.system_prompt.setPlainText(self._presets[name])
        self.delete_preset_button.setEnabled(name is not None)

    def save_preset(self, name: str) -> None:
        name = " ".join(name.split())
        if not name:
            return
        self._presets[name] = self.system_prompt.toPlainText()
        self.preset_saved.emit(name, self._presets[name])
        self._fill_presets(select=name)

    def _save_preset(self) -> None:
        name, ok = QInputDialog.getText(self, "Save preset", "Name of this system prompt:")
        if ok:
            self.save_preset(name)

    def _delete_preset(self) -> None:
        name = self.preset.currentData()
        if name is not None:
            self._presets.pop(name, None)
            self.preset_deleted.emit(name)
            self._fill_presets()

    def _reset_sampling(self) -> None:
        values = ChatSettings().effective_sampling(self._recommended)
        for name, box in self.floats.items():
            box.setValue(float(getattr(values, name)))
        self.top_k.setValue(values.top_k)
        self.max_tokens.setValue(values.max_tokens)
        self.seed.setValue(-1)

    # Result

    def chosen_sampling(self) -> Sampling:
        sampling = Sampling(
            max_tokens=self.max_tokens.value(),
            top_k=self.top_k.value(),
            seed=None if self.seed.value() < 0 else self.seed.value(),
        )
        values: dict[str, Any] = {name: box.value() for name, box in self.floats.items()}
        return replace(sampling, **values)

    def chosen_settings(self) -> ChatSettings:
        """Only the values that differ from the model's are kept, so a new model's advice still applies."""
        chosen = asdict(self.chosen_sampling())
        baseline = asdict(ChatSettings().effective_sampling(self._recommended))
        changed = {
            f.name: chosen[f.name]
            for f in fields(Sampling)
            if chosen[f.name] != baseline[f.name]
            and not (isinstance(chosen[f.name], float) and abs(chosen[f.name] - baseline[f.name]) < 1e-6)
        }
        return ChatSettings.from_dict(
            {
                "sampling": changed,
                "context_policy": self.policy.currentData(),
                "mode": self.mode.currentData(),
            }
        )

    def chosen_system_prompt(self) -> str:
        return self.system_prompt.toPlainText().strip()
