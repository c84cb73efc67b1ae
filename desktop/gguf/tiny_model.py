"""A tiny llama-architecture GGUF that llama.cpp really loads and generates from.

Random weights, a SentencePiece-style vocabulary (byte tokens included) and a ChatML chat
template; about 0.6 MB, built in well under a second. Tests, ``hearth --self-test`` and the
benchmarks' overhead figures use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFWriter, LlamaFileType, TokenType
from gguf.quants import quantize

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "it",
    "for",
    "on",
    "was",
    "with",
    "as",
    "be",
    "at",
    "by",
    "this",
    "have",
    "from",
    "or",
    "one",
    "had",
    "not",
    "but",
    "what",
    "all",
    "were",
    "when",
    "we",
    "there",
    "can",
    "an",
    "your",
    "which",
    "their",
    "said",
    "if",
    "do",
    "will",
    "each",
    "about",
    "how",
    "up",
    "out",
    "them",
    "then",
    "she",
    "many",
    "some",
    "so",
    "these",
    "would",
    "other",
    "into",
    "has",
    "more",
    "her",
    "two",
    "like",
    "him",
    "see",
    "time",
    "could",
    "no",
    "make",
    "than",
    "first",
    "been",
    "its",
    "who",
    "now",
    "people",
    "my",
    "made",
    "over",
    "did",
    "down",
    "only",
    "way",
    "find",
    "use",
    "may",
    "water",
    "long",
    "little",
    "very",
    "after",
    "words",
    "called",
    "just",
    "where",
    "most",
    "know",
    "hello",
    "model",
    "local",
    "chat",
    "quant",
    "fire",
    "hearth",
    "warm",
    "light",
    "story",
    "answer",
    "question",
    "small",
    "fast",
    "good",
]


_PADDING_PIECE = 8_000_000
# File types the factory writes quantized (by the gguf package's own quantizer), by the tensor
# type their matrices get; norms stay F32.
_QUANTIZED = {
    LlamaFileType.MOSTLY_Q8_0: GGMLQuantizationType.Q8_0,
    LlamaFileType.MOSTLY_Q4_0: GGMLQuantizationType.Q4_0,
    LlamaFileType.MOSTLY_Q5_0: GGMLQuantizationType.Q5_0,
}


@dataclass(frozen=True)
class TinyModelSpec:
    n_vocab: int = 512
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_head_kv: int = 2
    n_ff: int = 128
    context_length: int = 2048
    chat_template: str | None = CHATML_TEMPLATE
    seed: int = 1234
    name: str = "Tiny Llama"
    file_type: LlamaFileType = LlamaFileType.ALL_F32
    split_max_tensors: int = 0  # >0 writes shards (-00001-of-0000N.gguf)
    architecture: str = "llama"  # another name makes a file llama.cpp cannot load
    # Recommended sampling as llama.cpp's general.sampling.* keys, e.g. (("temp", 0.6),).
    sampling: tuple[tuple[str, float], ...] = ()
    # The output layer's spread: 1.0 makes peaked logits (replies run predictably); about 0.05
    # makes spread-out distributions like a trained model's, for quality measurements.
    output_scale: float = 1.0
    # Filler metadata before the vocabulary, in bytes (as a huge vocabulary would take): a header
    # larger than a reader's bound. Strings of at most 8 MB, which llama.cpp skips as unknown keys.
    metadata_padding: int = 0
    # No output.weight: the output layer is the token embedding, as in Gemma and other small
    # models (llama.cpp multiplies by it unrepacked, which the speed probe times).
    tied_output: bool = False
    # Every weight zero, and none written: the file's data is a hole the size of the weights
    # (a sparse file), so a model of hundreds of MB (the speed probe's) takes a millisecond and
    # no disk. Speed does not depend on the values. Loaded without mmap, llama.cpp reads the hole
    # into memory of its own, as it would real weights; mapped, every page would be the same
    # zero page, in the CPU's caches. Not for splitting into shards.
    zero_weights: bool = False


def _vocabulary(n_vocab: int) -> tuple[list[str], list[float], list[int]]:
    tokens = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    pieces: list[str] = []
    for ch in "▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'":
        pieces.append(ch)
    for word in _WORDS:
        full = "▁" + word
        # Every prefix, so the SentencePiece merges can build the whole word.
        pieces.extend(full[:i] for i in range(2, len(full) + 1))
    seen = set(tokens)
    for piece in pieces:
        if len(tokens) >= n_vocab:
            break
        if piece not in seen:
            seen.add(piece)
            tokens.append(piece)
            types.append(TokenType.NORMAL)
    filler = 0
    while len(tokens) < n_vocab:
        tokens.append(f"▁w{filler}")
        types.append(TokenType.NORMAL)
        filler += 1
    # SentencePiece prefers higher scores: longer pieces win, so words merge whole.
    scores = [float(len(t)) if ty == TokenType.NORMAL else 0.0 for t, ty in zip(tokens, types, strict=True)]
    return tokens, scores, [int(t) for t in types]


def build_tiny_model(path: Path, spec: TinyModelSpec | None = None) -> Path:
    """Write the model to ``path`` (the first shard's name when split) and return it."""
    spec = spec or TinyModelSpec()
    rng = np.random.default_rng(spec.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(path, spec.architecture, split_max_tensors=spec.split_max_tensors)
    head_dim = spec.n_embd // spec.n_head
    writer.add_name(spec.name)
    writer.add_context_length(spec.context_length)
    writer.add_embedding_length(spec.n_embd)
    writer.add_block_count(spec.n_layer)
    writer.add_feed_forward_length(spec.n_ff)
    writer.add_rope_dimension_count(head_dim)
    writer.add_head_count(spec.n_head)
    writer.add_head_count_kv(spec.n_head_kv)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(spec.file_type)
    for i, start in enumerate(range(0, spec.metadata_padding, _PADDING_PIECE)):
        writer.add_string(f"hearth.padding.{i}", " " * min(_PADDING_PIECE, spec.metadata_padding - start))

    tokens, scores, types = _vocabulary(spec.n_vocab)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    if not spec.zero_weights:
        # Optional to llama.cpp (every piece then scores 0 and is a normal token). Writing them
        # is two thirds of the time a 262,144-entry vocabulary takes, and a model of zeros
        # writes nothing worth reading.
        writer.add_token_scores(scores)
        writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    if spec.chat_template is not None:
        writer.add_chat_template(spec.chat_template)
    for key, value in spec.sampling:
        if key == "top_k":
            writer.add_int32(f"general.sampling.{key}", int(value))
        else:
            writer.add_float32(f"general.sampling.{key}", float(value))

    dtype = np.float16 if spec.file_type == LlamaFileType.MOSTLY_F16 else np.float32
    quantized = _QUANTIZED.get(spec.file_type)
    zero_bytes: list[int] = []  # each tensor's size, when none is written

    def add(
        name: str, shape: tuple[int, ...], qtype: GGMLQuantizationType | None, make: Callable[[], np.ndarray]
    ) -> None:
        """A tensor of ``shape`` (rows, width) in ``qtype`` (None: floats): made and written, or,
        for zero weights, its size alone (the file is cut to length at the end)."""
        if not spec.zero_weights:
            writer.add_tensor(name, make(), raw_dtype=qtype)
            return
        if qtype is None:
            floats = np.dtype(np.float32 if len(shape) == 1 else dtype)
            nbytes = int(np.prod(shape)) * floats.itemsize
            writer.add_tensor_info(name, shape, floats, nbytes)
        else:
            block, type_size = GGML_QUANT_SIZES[qtype]
            rows, width = shape
            nbytes = rows * (width // block) * type_size
            writer.add_tensor_info(name, (rows, nbytes // rows), np.dtype(np.uint8), nbytes, raw_dtype=qtype)
        zero_bytes.append(nbytes)

    def weights(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(dtype)

    def matrix(name: str, rows: int, width: int, scale: float = 0.2) -> None:
        """A weight matrix in the file's type: quantized by the gguf package where the type is
        one, else floats."""
        if quantized is None:
            add(name, (rows, width), None, lambda: weights(rows, width, scale=scale))
        else:
            qtype = quantized

            def quantized_matrix() -> np.ndarray:
                floats = (rng.standard_normal((rows, width)) * scale).astype(np.float32)
                return quantize(floats, qtype)

            add(name, (rows, width), qtype, quantized_matrix)

    def norm(name: str) -> None:
        add(name, (spec.n_embd,), None, lambda: np.ones(spec.n_embd, dtype=np.float32))

    def output() -> np.ndarray:
        out = weights(spec.n_vocab, spec.n_embd, scale=spec.output_scale)
        # Zero rows for the control and byte tokens: against these large random logits they
        # are never sampled, so replies are words (not stray bytes) and run to max_tokens,
        # which keeps tests predictable.
        out[: 5 + 256] = 0
        return quantize(out.astype(np.float32), quantized) if quantized is not None else out

    kv = head_dim * spec.n_head_kv
    matrix("token_embd.weight", spec.n_vocab, spec.n_embd, scale=1.0)
    norm("output_norm.weight")
    if not spec.tied_output:
        add("output.weight", (spec.n_vocab, spec.n_embd), quantized, output)
    for i in range(spec.n_layer):
        norm(f"blk.{i}.attn_norm.weight")
        for name, rows, width in (
            ("attn_q", spec.n_embd, spec.n_embd),
            ("attn_k", kv, spec.n_embd),
            ("attn_v", kv, spec.n_embd),
            ("attn_output", spec.n_embd, spec.n_embd),
        ):
            matrix(f"blk.{i}.{name}.weight", rows, width)
        norm(f"blk.{i}.ffn_norm.weight")
        for name, rows, width in (
            ("ffn_gate", spec.n_ff, spec.n_embd),
            ("ffn_up", spec.n_ff, spec.n_embd),
            ("ffn_down", spec.n_embd, spec.n_ff),
        ):
            matrix(f"blk.{i}.{name}.weight", rows, width)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    if spec.zero_weights:
        writer.write_ti_data_to_file()
        assert writer.fout is not None and len(writer.fout) == 1, "zero weights are not split"
        align = writer.data_alignment
        end = GGUFWriter.ggml_pad(writer.fout[0].tell(), align)
        end += sum(GGUFWriter.ggml_pad(n, align) for n in zero_bytes)
        writer.close()
        os.truncate(path, end)
        return path
    writer.write_tensors_to_file()
    writer.close()
    if spec.split_max_tensors:
        # GGUFWriter names the parts itself from the path's stem.
        firsts = sorted(path.parent.glob(path.stem + "-00001-of-*.gguf"))
        return firsts[0]
    return path
