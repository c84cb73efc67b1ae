"""The predicted generation speed of a model on disk (desktop/gguf/speed.py), for My models and
``hearth list``."""

from __future__ import annotations

from collections.abc import Mapping

from desktop.gguf.header import BrokenModel
from desktop.gguf.header_cache import HeaderCache
from desktop.gguf.speed import MachineSpeed, bytes_per_token, gpu_fraction, predict_tg_tps
from desktop.library.scan import LocalModel


def predicted_for_model(
    model: LocalModel,
    machine: MachineSpeed,
    *,
    headers: HeaderCache | None = None,
    fields: Mapping[str, object] | None = None,
) -> float | None:
    """Generation tokens/s on ``machine``; None for a broken model. ``fields``: the header's (a
    mixture-of-experts model reads only its active experts), read through ``headers`` when
    given and not passed, else from what the scan worked out (``LocalModel.bytes_per_token``);
    without any of them, the model is taken as dense."""
    if not model.ok or model.size_bytes <= 0:
        return None
    if fields is None and headers is not None and not model.bytes_per_token:
        try:
            fields = headers.read(model.path).fields
        except (OSError, BrokenModel):
            fields = None
    if fields is None and model.bytes_per_token:
        per_token = model.bytes_per_token  # worked out from the header when the library was scanned
    else:
        per_token = bytes_per_token(model.size_bytes, fields)
    share = gpu_fraction(model.memory_needed(), machine)
    return predict_tg_tps(per_token, machine, share)
