"""One SynthSign example: English sentence -> pseudo-gloss -> signs and fingerspelling -> timeline -> labels.

Planning (this module) is cheap and runs in the main process; drawing and encoding the frames (``render_example``)
is the expensive part and runs in worker processes. Both are pure functions of (seed, split, index), so the data
set is the same whichever worker makes which clip.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .appearance import ClipAppearance, sample_clip_appearance, sample_signer
from .config import SPLITS, SynthSignConfig
from .keypoints import clip_keypoints
from .lexicon import manual_sign
from .render import render_clip
from .sentences import sample_sentence
from .timeline import ClipTimeline, FingerspellingUnit, SignUnit, Unit, build_timeline, sample_timing_style
from .video_writer import write_mp4
from .visemes import viseme_ids

# Random streams, so that signer looks and examples never share random numbers.
_EXAMPLE_STREAM = 1
_SIGNER_STREAM = 2


def example_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of example ``index`` of ``split``: independent of every other example."""
    return np.random.default_rng([seed, _EXAMPLE_STREAM, SPLITS.index(split), index])


def signer_rng(seed: int, signer_id: int) -> np.random.Generator:
    return np.random.default_rng([seed, _SIGNER_STREAM, signer_id])


def example_id(split: str, index: int) -> str:
    return f"{split}-{index:06d}"


def video_path(split: str, index: int) -> str:
    """Where an example's clip lives, relative to the data set folder (so the folder can be moved)."""
    return f"videos/{split}/{example_id(split, index)}.mp4"


@dataclass(frozen=True)
class TextTargets:
    """The Stage-1 targets of one sentence, made by ``signbind_hf.targets``, and the units the signer performs."""

    sentence: str
    pseudo_gloss: str
    phonemes: str
    letters: str
    fingerspelled_words: list[str]
    units: list[Unit]


def text_targets(sentence: str) -> TextTargets:
    """Gloss ``sentence`` with the project's own glosser and decide how each gloss word is signed.

    A gloss word is fingerspelled when the fingerspelling detector flags it, and signed from the lexicon otherwise.
    """
    from signbind_hf.targets import fingerspelled_words, letters, phonemes, pseudo_gloss

    gloss = pseudo_gloss(sentence)
    spelled = fingerspelled_words(sentence)
    spelled_upper = {word.upper() for word in spelled}
    units: list[Unit] = []
    word_phonemes = []
    for word in gloss.split():
        pronunciation = phonemes(word)
        word_phonemes.append(pronunciation)
        visemes = tuple(viseme_ids(pronunciation, context=f"phonemes of {word!r}"))
        if word in spelled_upper:
            units.append(FingerspellingUnit(word, letters(word).replace(" ", ""), visemes))
        else:
            units.append(SignUnit(word, manual_sign(word), visemes))
    # The letter and phoneme streams are CTC targets: they must list what the video shows, in the order it shows it.
    spelled_in_video = [unit.gloss for unit in units if isinstance(unit, FingerspellingUnit)]
    if spelled_in_video != [word.upper() for word in spelled]:
        raise ValueError(
            f"{sentence!r}: the fingerspelled words {spelled} do not appear in that order in the pseudo-gloss {gloss!r}"
        )
    whole = phonemes(gloss)
    if whole != " ".join(word_phonemes):
        raise ValueError(f"{gloss!r}: phonemes of the whole gloss {whole!r} differ from its words' {word_phonemes}")
    return TextTargets(
        sentence=sentence,
        pseudo_gloss=gloss,
        phonemes=whole,
        letters=letters(" ".join(spelled)),
        fingerspelled_words=spelled,
        units=units,
    )


@dataclass(frozen=True)
class ExamplePlan:
    """Everything about one example but its pixels: its row of the data set and what to draw."""

    row: dict
    appearance: ClipAppearance
    timeline: ClipTimeline


def plan_example(seed: int, split: str, index: int, config: SynthSignConfig) -> ExamplePlan:
    rng = example_rng(seed, split, index)
    targets = text_targets(sample_sentence(rng, split))
    signer_id = int(rng.choice(config.signer_ids(split)))
    look = sample_signer(signer_rng(seed, signer_id), signer_id)
    appearance = sample_clip_appearance(rng, look, width=config.frame_size, height=config.frame_size)
    lip_offset = int(rng.integers(0, config.max_lip_offset + 1))
    timeline = build_timeline(
        targets.units, sample_timing_style(rng, lip_offset=lip_offset), rng, lip_offset=lip_offset
    )
    face_boxes = np.asarray([appearance.face_box(frame) for frame in range(timeline.num_frames)], dtype=np.float32)
    row = {
        "id": example_id(split, index),
        "video": video_path(split, index),
        "start": None,
        "end": None,
        "sentence": targets.sentence,
        "pseudo_gloss": targets.pseudo_gloss,
        "phonemes": targets.phonemes,
        "letters": targets.letters,
        "fingerspelled_words": targets.fingerspelled_words,
        "segment_labels": timeline.segments.tolist(),
        "face_boxes": face_boxes.tolist(),
        "gloss_spans": [list(span) for span in timeline.unit_spans],
        "lip_offset": lip_offset,
        "signer_id": str(signer_id),
        "split": split,
        "source": "synthsign",
        "fps": float(config.fps),
        "num_frames": timeline.num_frames,
    }
    return ExamplePlan(row=row, appearance=appearance, timeline=timeline)


def render_example(plan: ExamplePlan, root: Path, *, fps: int, crf: int) -> None:
    """Draw and encode ``plan``'s clip under ``root`` (the data set folder being built), and write the renderer's
    keypoints of every frame beside it as ``<clip>.pose`` (``keypoints.clip_keypoints``)."""
    from signbind_hf.keypoints_signbind import sidecar_pose_path, write_pose_file

    path = root / plan.row["video"]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mp4(path, render_clip(plan.appearance, plan.timeline), fps=fps, crf=crf)
    write_pose_file(clip_keypoints(plan.appearance, plan.timeline, fps), sidecar_pose_path(path))
