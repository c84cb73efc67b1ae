"""The predicted generation speed of a model on disk (desktop/gguf/speed.py), for My models and
``hearth list``."""

from __future__ import annotations

from desktop.gguf.header import BrokenModel
from desktop.gguf.header_cache import HeaderCache
from desktop.gguf.speed import MachineSpeed, gpu_fraction, predict_tg_tps, token_reads
from desktop.library.scan import LocalModel


def predicted_for_model(
    model: LocalModel,
    machine: MachineSpeed,
    *,
    headers: HeaderCache | None = None,
) -> float | None:
    """Generation tokens/s on ``machine``; None for a broken model. What a token reads comes
    from the scan (``LocalModel.token_reads``), else from the header read through ``headers``,
    else from the file's size and quant (taken as dense)."""
    if not model.ok or model.size_bytes <= 0:
        return None
    reads = model.token_reads
    if reads is None and headers is not None:
        try:
            header = headers.read(model.path)
            weights = header.weight_reads
            reads = token_reads(model.size_bytes, header.fields, weight_reads=weights, quant=model.quant)
        except (OSError, BrokenModel):
            reads = None
    if reads is None:
        reads = token_reads(model.size_bytes, quant=model.quant)
    share = gpu_fraction(model.memory_needed(), machine)
    return predict_tg_tps(reads, machine, share)
