from __future__ import annotations

from desktop.hub.card import card_markdown, load_card
from desktop.hub.search import search_models
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub

README = b"""---
license: apache-2.0
base_model: hearth-test/Tiny-Llama
base_model_relation: quantized
---
# Tiny Llama GGUF

Quantised builds of **Tiny Llama**.
"""


def test_card_licence_gating_and_lineage(fake_hub: FakeHub) -> None:
    fake_hub.add_file(TEST_REPO, "README.md", README)
    card = load_card(TEST_REPO)
    assert card.licence == "apache-2.0" and card.gated is False
    assert card.base_models == ("hearth-test/Tiny-Llama",) and card.relation == "quantized"
    assert card.text.strip().startswith("# Tiny Llama GGUF")
    page = card_markdown(card)
    assert "**Quantised from:** [hearth-test/Tiny-Llama](hearth-base:hearth-test/Tiny-Llama)" in page
    assert "(hearth-children:finetune:hearth-test/Tiny-Llama)" in page


def test_lineage_from_tags_and_no_readme(fake_hub: FakeHub) -> None:
    repo = fake_hub.add_repo(
        "someone/Tiny-Chat-GGUF",
        gated="manual",
        tags=["gguf", "license:mit", "base_model:finetune:hearth-test/Tiny-Llama"],
    )
    repo.files["tiny-chat-Q4_0.gguf"] = b"GGUF"
    card = load_card("someone/Tiny-Chat-GGUF")
    assert (card.licence, card.gated, card.relation, card.text) == ("mit", "manual", "finetune", "")
    assert "has no model card" in card_markdown(card)
    children = search_models("", filters=(card.lineage_filter("finetune") or "",))
    assert [m.repo_id for m in children] == ["someone/Tiny-Chat-GGUF"]
