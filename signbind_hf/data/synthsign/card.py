"""The SynthSign data set card (``README.md`` of the data set folder), from ``hub_cards/synthsign_card.md``."""

from pathlib import Path

from ...hub.publishing import card_template
from .lexicon import GLOSSES, HOMONYM_GROUPS
from .sentences import SLOTS, TEMPLATES

CARD_TEMPLATE = "synthsign_card.md"  # in signbind_hf/hub_cards/, beside the model and data set card templates
LICENSE = "apache-2.0"


def _size_category(total: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if total < limit:
            return name
    return "100K<n<1M"


def render_card(settings: dict, template: str = CARD_TEMPLATE):
    """A ``huggingface_hub.DatasetCard`` describing a SynthSign data set made with ``settings`` (see ``builder``)."""
    from huggingface_hub import DatasetCard, DatasetCardData

    config = settings["config"]
    card_data = DatasetCardData(
        pretty_name="SynthSign",
        license=LICENSE,
        language=["en"],
        task_categories=["translation"],
        tags=["sign-language", "synthetic", "fingerspelling", "lipreading", "video"],
        size_categories=[_size_category(sum(settings["sizes"].values()))],
    )
    return DatasetCard.from_template(
        card_data,
        template_str=card_template(template),
        version=settings["version"],
        seed=settings["seed"],
        sizes=settings["sizes"],
        signers={
            "train": config["train_signers"],
            "validation": config["validation_signers"],
            "test": config["test_signers"],
        },
        frame_size=config["frame_size"],
        fps=config["fps"],
        crf=config["crf"],
        max_lip_offset=config["max_lip_offset"],
        num_glosses=len(GLOSSES),
        num_homonym_groups=len(HOMONYM_GROUPS),
        homonym_groups=", ".join("/".join(group) for group in HOMONYM_GROUPS),
        num_names=len(SLOTS["name"]),
        num_surnames=len(SLOTS["surname"]),
        num_templates=len(TEMPLATES),
        license=LICENSE,
    )


def write_card(root: Path, settings: dict) -> Path:
    """Write the card as ``root/README.md`` (where the Hub looks for it) and return its path."""
    path = root / "README.md"
    render_card(settings).save(path)
    return path
