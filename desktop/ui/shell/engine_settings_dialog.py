"""How models load: context, threads, GPU layers, batch, flash attention, KV cache, mmap, mlock."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.engine.hardware import physical_cores
from desktop.engine.protocol import ALL_GPU_LAYERS, AUTO_GPU_LAYERS, KV_TYPES
from desktop.settings import Settings
from desktop.units import count_of

CONTEXTS = (0, 2048, 4096, 8192, 16384, 32768, 65536, 131072)


class EngineSettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        gpu_found: bool | None = None,
        loaded: str | None = None,
    ) -> None:
        """``gpu_found``: what the device probe said (None: not yet); ``loaded``: the name of
        the model loaded now, offered a reload with the new settings."""
        super().__init__(parent)
        self.setWindowTitle("Engine settings")
        self._settings = settings
        self.reload_requested = False
        form = QFormLayout()

        self.context = QComboBox()
        for n in CONTEXTS:
            self.context.addItem("The model's own (capped to fit memory)" if n == 0 else f"{n:,} tokens", n)
        self.context.setCurrentIndex(max(0, self.context.findData(settings.load_context)))
        self.context.setToolTip(
            "How much text the model sees at once: the conversation and the reply. More needs "
            "more memory (the KV cache grows with it)."
        )
        self.threads = QSpinBox()
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText(f"Physical cores ({physical_cores()})")
        self.threads.setValue(settings.threads or 0)
        self.threads.setToolTip("CPU threads for the model. The physical cores are usually fastest.")
        self.gpu_layers = QComboBox()
        self.gpu_layers.addItem("Automatic (what fits the GPU's free memory)", AUTO_GPU_LAYERS)
        self.gpu_layers.addItem("None (CPU only)", 0)
        self.gpu_layers.addItem("All", ALL_GPU_LAYERS)
        for n in (4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 64, 80):
            self.gpu_layers.addItem(count_of(n, "layer"), n)
        index = self.gpu_layers.findData(settings.gpu_layers)
        if index < 0:
            self.gpu_layers.addItem(f"{settings.gpu_layers} layers", settings.gpu_layers)
            index = self.gpu_layers.count() - 1
        self.gpu_layers.setCurrentIndex(index)
        self.gpu_layers.setToolTip(
            "How many of the model's layers run on the GPU. Automatic counts what fits with the "
            "KV cache; if a load still runs out of memory, Hearth retries with fewer, then the CPU."
        )
        if gpu_found is False:
            # Nothing to offload to: the choice stays as saved (a GPU may come later), shown off.
            self.gpu_layers.setEnabled(False)
            self.gpu_layers.setToolTip(
                "No GPU was found for this build of llama.cpp: models run on the CPU. A GPU build "
                "(see the README) and a supported GPU make this choice available."
            )
        self.batch = QSpinBox()
        self.batch.setRange(32, 8192)
        self.batch.setSingleStep(128)
        self.batch.setValue(settings.batch_size)
        self.batch.setToolTip("Prompt tokens handed to llama.cpp at once. Larger reads long prompts faster.")
        self.ubatch = QSpinBox()
        self.ubatch.setRange(32, 8192)
        self.ubatch.setSingleStep(128)
        self.ubatch.setValue(settings.ubatch_size)
        self.ubatch.setToolTip("Tokens computed in one physical step (at most the batch size).")
        self.flash_attn = QCheckBox("Flash attention")
        self.flash_attn.setChecked(settings.flash_attn)
        self.flash_attn.setToolTip(
            "A faster, leaner attention (on by default, as llama.cpp chooses on CPUs and most GPUs); "
            "needed for a quantised V cache. Turn off if a model's replies come out garbled."
        )
        self.kv_type = QComboBox()
        for kind in KV_TYPES:
            self.kv_type.addItem(
                {"f16": "f16 (full quality)", "q8_0": "q8_0 (half the memory)", "q4_0": "q4_0 (a quarter)"}[
                    kind
                ],
                kind,
            )
        self.kv_type.setCurrentIndex(max(0, self.kv_type.findData(settings.kv_type)))
        self.kv_type.setToolTip(
            "How the KV cache (the model's memory of the conversation) is stored. Smaller types "
            "fit longer contexts at a small cost in quality; V is quantised only with flash attention."
        )
        self.mmap = QCheckBox("Map the file into memory (mmap)")
        self.mmap.setChecked(settings.use_mmap)
        self.mmap.setToolTip(
            "Loads faster and shares pages with the file cache. Turn off on slow network drives."
        )
        self.mlock = QCheckBox("Keep the model in RAM (mlock)")
        self.mlock.setChecked(settings.use_mlock)
        self.mlock.setToolTip("Stops the system from swapping the model out; needs enough free RAM.")
        self.unload_after = QSpinBox()
        self.unload_after.setRange(0, 24 * 60)
        self.unload_after.setSuffix(" idle minutes")
        self.unload_after.setSpecialValueText("Keep the model loaded")
        self.unload_after.setValue(settings.unload_after_minutes)
        self.unload_after.setToolTip("Unload the model after this long unused, returning its memory.")

        form.addRow("Context size", self.context)
        form.addRow("Threads", self.threads)
        form.addRow("GPU layers", self.gpu_layers)
        form.addRow("Batch size", self.batch)
        form.addRow("Micro-batch size", self.ubatch)
        form.addRow("KV cache type", self.kv_type)
        form.addRow("", self.flash_attn)
        form.addRow("", self.mmap)
        form.addRow("", self.mlock)
        form.addRow("Unload", self.unload_after)
        for label, widget in (
            ("Context size", self.context),
            ("Threads", self.threads),
            ("GPU layers", self.gpu_layers),
            ("Batch size", self.batch),
            ("Micro-batch size", self.ubatch),
            ("KV cache type", self.kv_type),
            ("Unload after idle minutes", self.unload_after),
        ):
            widget.setAccessibleName(label)

        note = QLabel(
            f"Changes apply the next time a model loads; Save and reload applies them to {loaded} now."
            if loaded
            else "Changes apply the next time a model loads."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        if loaded:
            self.reload_button = buttons.addButton("Save and reload", QDialogButtonBox.ButtonRole.AcceptRole)
            self.reload_button.setAccessibleName("Save and reload the model")
            self.reload_button.clicked.connect(lambda: setattr(self, "reload_requested", True))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def chosen(self) -> Settings:
        return replace(
            self._settings,
            load_context=int(self.context.currentData()),
            threads=self.threads.value() or None,
            gpu_layers=int(self.gpu_layers.currentData()),
            batch_size=self.batch.value(),
            ubatch_size=min(self.ubatch.value(), self.batch.value()),
            flash_attn=self.flash_attn.isChecked(),
            kv_type=str(self.kv_type.currentData()),
            use_mmap=self.mmap.isChecked(),
            use_mlock=self.mlock.isChecked(),
            unload_after_minutes=self.unload_after.value(),
        )
