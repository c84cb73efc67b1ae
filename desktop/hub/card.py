"""A repository's model card: its text, licence, gating and lineage (which model it comes from)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.hub import load_huggingface_hub
from desktop.hub.api import hub_api, hub_endpoint
from desktop.hub.describe import describe_hub_error
from desktop.hub.errors import HubError
from desktop.hub.files import check_repo_id
from desktop.hub.limits import answer_limits
from desktop.paths import hearth_paths

RELATIONS = ("quantized", "finetune", "adapter", "merge")


@dataclass(frozen=True)
class RepoCard:
    repo_id: str
    text: str  # the card's Markdown body ("" when the repo has no README)
    licence: str | None
    gated: bool | str  # False, "auto" or "manual"
    base_models: tuple[str, ...]
    relation: str | None  # how this repo relates to its base: quantized, finetune, adapter, merge

    def lineage_filter(self, relation: str) -> str | None:
        """The Hub filter that lists the base model's other children of one kind."""
        return f"base_model:{relation}:{self.base_models[0]}" if self.base_models else None


def load_card(repo_id: str) -> RepoCard:
    load_huggingface_hub()
    from huggingface_hub import ModelCard, hf_hub_download

    check_repo_id(repo_id)
    try:
        with answer_limits():
            info = hub_api().model_info(repo_id)
    except Exception as exc:
        raise describe_hub_error(exc, repo_id=repo_id) from exc
    text, data = "", {}
    if any(s.rfilename == "README.md" for s in info.siblings or []):
        try:
            with answer_limits():
                readme = hf_hub_download(
                    repo_id,
                    "README.md",
                    revision=info.sha,
                    endpoint=hub_endpoint(),
                    cache_dir=hearth_paths().cache_dir / "cards",
                )
            card = ModelCard(Path(readme).read_text(encoding="utf-8"), ignore_metadata_errors=True)
            text, data = card.text, card.data.to_dict()  # type: ignore[no-untyped-call]
        except HubError:
            raise
        except Exception as exc:
            raise describe_hub_error(exc, repo_id=repo_id) from exc
    tags = info.tags or []
    base = data.get("base_model")
    bases = tuple(base) if isinstance(base, list) else ((base,) if isinstance(base, str) else ())
    if not bases:  # the Hub's own tags carry the lineage too
        lineage = [t.split(":", 2)[2] for t in tags if t.startswith("base_model:") and t.count(":") == 2]
        bases = tuple(lineage[:1])
    relation = data.get("base_model_relation")
    if relation not in RELATIONS:
        relation = next(
            (r for r in RELATIONS for t in tags if bases and t == f"base_model:{r}:{bases[0]}"), None
        )
    licence = data.get("license")
    if licence == "other":
        licence = data.get("license_name") or "other"
    if licence is None:
        licence = next((t.removeprefix("license:") for t in tags if t.startswith("license:")), None)
    return RepoCard(
        repo_id=repo_id,
        text=text,
        licence=str(licence) if licence else None,
        gated=info.gated or False,
        base_models=tuple(str(b) for b in bases),
        relation=relation if isinstance(relation, str) else None,
    )


def card_markdown(card: RepoCard) -> str:
    """The card as one Markdown page: facts and lineage links first, then the author's text."""
    facts = [f"**Licence:** {card.licence or 'not stated'}"]
    gated = {"auto": "yes (approved automatically)", "manual": "yes (the authors approve each request)"}
    facts.append(f"**Gated:** {gated.get(str(card.gated), 'no')}")
    if card.base_models:
        base = card.base_models[0]
        verb = {
            "quantized": "Quantised from",
            "finetune": "Fine-tuned from",
            "adapter": "Adapter for",
            "merge": "Merged from",
        }.get(card.relation or "", "Based on")
        facts.append(f"**{verb}:** [{base}](hearth-base:{base})")
        facts.append(
            f"[Other GGUF builds of {base}](hearth-children:quantized:{base}) · "
            f"[Its fine-tunes](hearth-children:finetune:{base})"
        )
    return "  \n".join(facts) + "\n\n---\n\n" + (card.text.strip() or "*This repository has no model card.*")
