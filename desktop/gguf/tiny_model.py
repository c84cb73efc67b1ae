"""A tiny llama-architecture GGUF that llama.cpp really loads and generates from.

Random weights, a SentencePiece-style vocabulary (byte tokens included) and a ChatML chat
template; about 0.6 MB, built in well under a second. Tests, ``hearth --self-test`` and the
benchmarks' overhead figures use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, LlamaFileType, TokenType
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
}
_TILE_ROWS = 64  # rows drawn at random for a tiled matrix; the rest repeat them


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
    # Weights repeated from a small random block rather than drawn one by one: a model of
    # hundreds of MB (the speed probe's) builds in a fraction of a second. Speed does not depend
    # on the values; replies from such a model are not meant to be read.
    tiled_weights: bool = False


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


def _repeat_rows(block: np.ndarray, rows: int) -> np.ndarray:
    """``block``'s rows repeated down to ``rows`` rows (np.tile: np.resize is 10x slower)."""
    times = -(-rows // block.shape[0])
    return np.tile(block, (times, 1))[:rows]


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

    def weights(*shape: int, scale: float = 0.2) -> np.ndarray:
        if not spec.tiled_weights:
            return (rng.standard_normal(shape) * scale).astype(dtype)
        rows, width = shape
        block = (rng.standard_normal((min(rows, _TILE_ROWS), width)) * scale).astype(dtype)
        return _repeat_rows(block, rows)

    def matrix(*shape: int, scale: float = 0.2) -> np.ndarray:
        """A weight matrix in the file's type: quantized by the gguf package where the type is
        one (a tile of rows, repeated, when tiled), else floats."""
        if quantized is None:
            return weights(*shape, scale=scale)
        rows, width = shape
        first = rows if not spec.tiled_weights else min(rows, _TILE_ROWS)
        block = quantize((rng.standard_normal((first, width)) * scale).astype(np.float32), quantized)
        return _repeat_rows(block, rows)

    kv = head_dim * spec.n_head_kv
    embedding = matrix(spec.n_vocab, spec.n_embd, scale=1.0)
    writer.add_tensor("token_embd.weight", embedding, raw_dtype=quantized)
    writer.add_tensor("output_norm.weight", np.ones(spec.n_embd, dtype=np.float32))
    if not spec.tied_output:
        output = weights(spec.n_vocab, spec.n_embd, scale=spec.output_scale)
        # Zero rows for the control and byte tokens: against these large random logits they
        # are never sampled, so replies are words (not stray bytes) and run to max_tokens,
        # which keeps tests predictable.
        output[: 5 + 256] = 0
        if quantized is not None:
            output = quantize(output.astype(np.float32), quantized)
        writer.add_tensor("output.weight", output, raw_dtype=quantized)
    for i in range(spec.n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(spec.n_embd, dtype=np.float32))
        for name, rows, width in (
            ("attn_q", spec.n_embd, spec.n_embd),
            ("attn_k", kv, spec.n_embd),
            ("attn_v", kv, spec.n_embd),
            ("attn_output", spec.n_embd, spec.n_embd),
        ):
            writer.add_tensor(f"blk.{i}.{name}.weight", matrix(rows, width), raw_dtype=quantized)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(spec.n_embd, dtype=np.float32))
        for name, rows, width in (
            ("ffn_gate", spec.n_ff, spec.n_embd),
            ("ffn_up", spec.n_ff, spec.n_embd),
            ("ffn_down", spec.n_embd, spec.n_ff),
        ):
            writer.add_tensor(f"blk.{i}.{name}.weight", matrix(rows, width), raw_dtype=quantized)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if spec.split_max_tensors:
        # GGUFWriter names the parts itself from the path's stem.
        firsts = sorted(path.parent.glob(path.stem + "-00001-of-*.gguf"))
        return firsts[0]
    return path
