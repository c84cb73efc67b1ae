from __future__ import annotations

import pytest

from desktop.gguf.names import ShardName, is_projector, model_name, parse_shard, quant_from_name


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("model.Q4_K_M.gguf", "Q4_K_M"),
        ("model-q4_k_m.gguf", "Q4_K_M"),
        ("Qwen3-4B-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"),
        ("Model-Q6_K_L.gguf", "Q6_K_L"),
        ("Model-IQ4_XS.gguf", "IQ4_XS"),
        ("gemma-3-1b-it-fp16.gguf", "F16"),
        ("gemma-3-1b-it-BF16.gguf", "BF16"),
        ("Model-Q4_0_4_4.gguf", "Q4_0_4_4"),
        ("Model-Q8_0/Model-Q8_0-00001-of-00002.gguf", "Q8_0"),
        ("Meta-Llama-3.1-8B-Instruct-Q4_K_L.gguf", "Q4_K_L"),
        ("mistral-7b-instruct-v0.2.Q5_K_S.gguf", "Q5_K_S"),
        ("llama-2-7b-chat.Q2_K.gguf", "Q2_K"),
        ("Phi-3-mini-4k-instruct-q4.gguf", "Q4"),  # lenient; the header says which Q4
        ("gemma-2-9b-it-IQ3_XXS.gguf", "IQ3_XXS"),
        ("Qwen2.5-7B-Instruct-IQ2_M.gguf", "IQ2_M"),
        ("DeepSeek-R1-UD-IQ1_S-00001-of-00003.gguf", "UD-IQ1_S"),
        ("gpt-oss-20b-MXFP4.gguf", "MXFP4"),
        ("OLMo-2-1124-7B-Instruct-Q6_K.gguf", "Q6_K"),
        ("falcon-7b-instruct.F32.gguf", "F32"),
        ("SmolLM3-3B-f16.gguf", "F16"),
        ("qwen2.5-0.5b-instruct-q8_0.gguf", "Q8_0"),
        ("BitNet-b1.58-2B-4T-TQ2_0.gguf", "TQ2_0"),
        ("Llama-3.2-1B-Instruct-Q4_0_8_8.gguf", "Q4_0_8_8"),
        ("Mistral-Nemo-Instruct-2407-IQ4_NL.gguf", "IQ4_NL"),
        ("Qwen3-8B.gguf", None),
        ("mmproj-model-f16.gguf", None),
        ("README.md", None),
    ],
)
def test_quant_from_name(name: str, quant: str | None) -> None:
    assert quant_from_name(name) == quant


def test_shards() -> None:
    assert parse_shard("Big-Q8_0-00002-of-00003.gguf") == ShardName("Big-Q8_0", 2, 3)
    assert parse_shard("Big-Q8_0.gguf") is None
    assert parse_shard("Big-00004-of-00003.gguf") is None
    assert is_projector("sub/mmproj-F16.gguf")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/models/owner/Qwen3-8B-Q4_K_M.gguf", "Qwen3-8B-Q4_K_M"),
        ("C:\\models\\Big-Q8_0-00001-of-00003.gguf", "Big-Q8_0"),
        ("Tiny.GGUF", "Tiny"),
        ("notes.txt", "notes.txt"),
    ],
)
def test_one_name_for_a_model_whatever_the_path(path: str, name: str) -> None:
    from desktop.chats.message_html import model_label  # the window's label is the same name

    assert model_name(path) == name == model_label(path)
