"""A repository's GGUF files grouped as quantisations: one choice per quant, all shards together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from desktop.gguf.fit import (
    DEFAULT_CONTEXT,
    Fit,
    ModelShape,
    fit_verdict,
    memory_needed,
    system_memory_bytes,
)
from desktop.gguf.names import is_gguf, is_projector, parse_shard
from desktop.gguf.speed import (
    MachineSpeed,
    TokenReads,
    gpu_fraction,
    predict_tg_tps,
    speed_verdict,
    token_reads,
)
from desktop.hub.api import hub_api
from desktop.hub.files import HubFile, list_files
from desktop.hub.limits import answer_limits
from desktop.hub.remote_header import MAX_HEADER_BYTES, remote_header

# Typical loss per quant type, in words, from llama.cpp's published KL-divergence
# measurements on Llama-3-8B (mean KLD: Q8_0 0.0014, Q6_K 0.0055, Q5_K_M 0.0108,
# Q4_K_M 0.0313, Q3_K_M 0.102, Q2_K 0.445).
_QUALITY: list[tuple[tuple[str, ...], str]] = [
    (("F32", "F16", "BF16"), "Full quality (reference)"),
    (("Q8_0",), "Practically lossless"),
    (("Q6_K", "Q6_K_L"), "Nearly lossless"),
    (("Q5_K_M", "Q5_K_L", "Q5_K_S", "Q5_0", "Q5_1"), "Very small loss"),
    (
        ("Q4_K_M", "Q4_K_L", "Q4_K_S", "Q4_0", "Q4_1", "IQ4_XS", "IQ4_NL", "Q4_K_XL", "MXFP4", "MXFP4_MOE"),
        "Small loss: the usual balance of size and quality",
    ),
    (("Q3_K_M", "Q3_K_L", "Q3_K_XL", "IQ3_M", "IQ3_S", "IQ3_XS", "Q3_K_S", "IQ3_XXS"), "Noticeable loss"),
    (("Q2_K", "Q2_K_L", "Q2_K_S", "IQ2_M", "IQ2_S", "IQ2_XS", "IQ2_XXS", "Q2_K_XL"), "Large loss"),
    (("IQ1_M", "IQ1_S", "TQ1_0", "TQ2_0", "Q1_0"), "Very large loss: experiments only"),
]


def quality_hint(quant: str | None) -> str | None:
    if quant is None:
        return None
    label = quant.removeprefix("UD-")
    if label.startswith("Q4_0_"):  # ARM repacks of Q4_0
        label = "Q4_0"
    for labels, words in _QUALITY:
        if label in labels:
            return words
    return None


@dataclass(frozen=True)
class QuantChoice:
    quant: str | None  # None for sidecars
    kind: str  # "model" or "mmproj"
    files: tuple[HubFile, ...]  # shards in order

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes or 0 for f in self.files)

    @property
    def shards(self) -> int:
        return len(self.files)

    @property
    def filenames(self) -> list[str]:
        return [f.filename for f in self.files]

    @property
    def name(self) -> str:
        """What a person calls this choice: the quant, or the file name for a sidecar."""
        return self.quant or PurePosixPath(self.files[0].filename).name

    def bits_per_weight(self, parameters: int | None) -> float | None:
        if not parameters or not self.size_bytes:
            return None
        return round(self.size_bytes * 8 / parameters, 2)

    @property
    def quality(self) -> str | None:
        return quality_hint(self.quant)


def group_quants(files: list[HubFile]) -> list[QuantChoice]:
    """Model files by quant (shards of one model together), then projectors; smallest first."""
    groups: dict[tuple[str, str | None], list[HubFile]] = {}
    sidecars: list[QuantChoice] = []
    for f in files:
        if not is_gguf(f.filename):
            continue
        if is_projector(f.filename):
            sidecars.append(QuantChoice(None, "mmproj", (f,)))
            continue
        shard = parse_shard(f.filename)
        stem = str(PurePosixPath(f.filename).parent / shard.stem) if shard else f.filename
        groups.setdefault((stem, f.quant), []).append(f)
    models = [
        QuantChoice(quant, "model", tuple(sorted(parts, key=lambda p: p.filename)))
        for (_stem, quant), parts in groups.items()
    ]
    models.sort(key=lambda c: (c.size_bytes, c.name))
    return models + sorted(sidecars, key=lambda c: c.name)


@dataclass(frozen=True)
class QuantReport:
    """A repo's quant choices with what they need on this machine."""

    repo_id: str
    revision: str | None
    parameters: int | None
    shape: ModelShape | None
    choices: list[QuantChoice]
    available_bytes: int
    context_override: int | None = None  # the context the person chose; else the default
    # From the first model file's header on the Hub (``with_header``), like ``shape``:
    header_read: bool = False  # the read has ended, well or not
    has_chat_template: bool | None = None  # None: not known (not read yet, or not reached)
    kind_unknown_why: str | None = None  # in words, when the read ended without knowing
    # The header's fields, less the tokenizer's: what a predicted speed depends on (experts).
    fields: Mapping[str, object] = field(default_factory=dict)

    @property
    def context(self) -> int:
        if self.context_override:
            return self.context_override
        return self.shape.default_context() if self.shape else DEFAULT_CONTEXT

    def memory_for(self, choice: QuantChoice) -> int | None:
        return memory_needed(choice.size_bytes, self.shape, self.context) if choice.kind == "model" else None

    def fit_for(self, choice: QuantChoice) -> Fit | None:
        needed = self.memory_for(choice)
        return fit_verdict(needed, self.available_bytes) if needed is not None else None

    def bits_per_weight(self, choice: QuantChoice) -> float | None:
        """Size x 8 / parameters; None where the parameters are not known."""
        return choice.bits_per_weight(self.parameters) if choice.kind == "model" else None

    def predicted_tg_tps(self, choice: QuantChoice, machine: MachineSpeed) -> float | None:
        """Generation tokens/s on ``machine`` (desktop/gguf/speed.py); None for a sidecar or a
        choice of unknown size."""
        if choice.kind != "model" or choice.size_bytes <= 0:
            return None
        share = gpu_fraction(self.memory_for(choice), machine)
        return predict_tg_tps(self.token_reads(choice), machine, share)

    def token_reads(self, choice: QuantChoice) -> TokenReads:
        """What a token of this build reads: its size at its quant's kind (the remote header's
        tensor list is not read), as this model's shape (calibrated by its builds on disk)."""
        return token_reads(choice.size_bytes, self.fields, quant=choice.quant)

    def with_header_of(self, other: QuantReport) -> QuantReport:
        """This report (its context and memory) with what ``other``'s header read found."""
        return replace(
            self,
            parameters=self.parameters or other.parameters,
            fields=other.fields,
            shape=other.shape,
            header_read=other.header_read,
            has_chat_template=other.has_chat_template,
            kind_unknown_why=other.kind_unknown_why,
        )


def quant_report(repo_id: str, *, available_bytes: int | None = None) -> QuantReport:
    """The quants, their sizes and what they need: ``quant_listing`` then ``with_header``."""
    return with_header(quant_listing(repo_id, available_bytes=available_bytes))


def quant_listing(repo_id: str, *, available_bytes: int | None = None) -> QuantReport:
    """The quants and their sizes, without the model's shape: a window shows these rows at
    once, before the slower read of the first file's header (``with_header``)."""
    listing = list_files(repo_id)
    choices = group_quants(listing.files)
    parameters: int | None = None
    try:
        with answer_limits():
            info = hub_api().model_info(repo_id, expand=["gguf"])
        total = (info.gguf or {}).get("total")
        parameters = int(total) if isinstance(total, int) else None
    except Exception:  # the figures are a nicety: the list stands without them
        parameters = None
    return QuantReport(
        repo_id=repo_id,
        revision=listing.commit,
        parameters=parameters,
        shape=None,
        choices=choices,
        available_bytes=available_bytes if available_bytes is not None else system_memory_bytes(),
    )


def with_header(report: QuantReport) -> QuantReport:
    """The report with what the first model file's header on the Hub says (one ranged request,
    bounded): the model's shape (layers, heads, context), so memory and fit count the KV cache,
    and whether it has a chat template. The quants of one repository are one model, so the
    first file speaks for them all."""
    first_model = next(
        (c for c in report.choices if c.kind == "model" and all(f.problem is None for f in c.files)), None
    )
    if first_model is None:
        return replace(report, header_read=True, kind_unknown_why="Not known: no model file here can be read")
    try:
        header = remote_header(report.repo_id, first_model.files[0].filename, report.revision)
    except Exception as exc:  # the figures are a nicety: the list stands without them
        return replace(
            report,
            header_read=True,
            kind_unknown_why=f"Not known: the model file's header could not be read from the Hub ({exc})",
        )
    why = None
    if header.has_chat_template is None:
        why = (
            f"Not known: the model file's header goes on past its first {MAX_HEADER_BYTES / 1e6:g} MB, "
            "more than Hearth reads from the Hub, before saying whether it has a chat template. "
            "My models will say once it is downloaded."
        )
    fields = {k: v for k, v in header.fields.items() if not k.startswith("tokenizer.")}
    counted = fields.get("general.parameter_count")
    return replace(
        report,
        parameters=report.parameters or (counted if isinstance(counted, int) and counted > 0 else None),
        fields=fields,
        shape=ModelShape.from_fields(header.fields),
        header_read=True,
        has_chat_template=header.has_chat_template,
        kind_unknown_why=why,
    )


def recommended_quant(report: QuantReport, machine: MachineSpeed) -> QuantChoice | None:
    """The best quality that is usable here: of the quants that fit (not tight) and are predicted
    at least "usable", the most bits per weight (the largest file, when the parameters are not
    known); None when none is."""
    candidates = [
        c
        for c in report.choices
        if c.kind == "model"
        and report.fit_for(c) == "fits"
        and speed_verdict(report.predicted_tg_tps(c, machine), True) in ("fast", "usable")
    ]
    return max(candidates, key=lambda c: (c.size_bytes, c.name), default=None)
