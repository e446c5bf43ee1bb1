"""SynthSign: deterministic by seed, labels that match the pixels, every expert needed by construction, the CLI."""

import dataclasses
import hashlib
import itertools
import json
from pathlib import Path

import datasets
import numpy as np
import pytest

from signbind_cli import synth as synth_command
from signbind_cli.main import main as cli_main
from signbind_hf.constants import LETTERS, PHONEMES, SEGMENT_FINGERSPELLING, SEGMENT_REST, SEGMENT_SIGN
from signbind_hf.data.synthsign import (
    DEFAULT_NUM_TEST,
    DEFAULT_NUM_TRAIN,
    DEFAULT_NUM_VALIDATION,
    GLOSSES,
    HOMONYM_GROUPS,
    SETTINGS_FILE,
    SPLITS,
    SynthSignConfig,
    generate_synthsign,
    lexicon,
    manual_sign,
    space,
)
from signbind_hf.data.synthsign import builder as builder_module
from signbind_hf.data.synthsign.appearance import sample_clip_appearance, sample_signer
from signbind_hf.data.synthsign.examples import plan_example, text_targets
from signbind_hf.data.synthsign.handshapes import (
    HANDSHAPES,
    LETTER_HANDSHAPE_IDS,
    REST_HANDSHAPE_ID,
    SIGN_HANDSHAPE_IDS,
)
from signbind_hf.data.synthsign.keypoints import DRAWN_POSE_POINTS, clip_keypoints
from signbind_hf.data.synthsign.render import arm_joints, draw_hand, draw_head, draw_mouth, hand_side, render_clip
from signbind_hf.data.synthsign.sentences import (
    SLOTS,
    TEMPLATES,
    sample_sentence,
    sentence_split,
    template_slots,
)
from signbind_hf.data.synthsign.timeline import (
    NEUTRAL_VISEME_ID,
    SignUnit,
    TimingStyle,
    build_timeline,
)
from signbind_hf.data.synthsign.visemes import VISEME_SHAPES, viseme_ids
from signbind_hf.face_tracking_signbind import MOUTH_CENTRE_IN_FACE_BOX
from signbind_hf.targets import phonemes, pseudo_gloss
from signbind_hf.video_decoding_signbind import decode_video

SIZES = {"train": 3, "validation": 2, "test": 2}
SEED = 7
CONFIG = SynthSignConfig()
SENTENCE_DRAWS = {"train": 1500, "validation": 100, "test": 100}
STEADY = TimingStyle(speed=1.0, letter_frames=4, transition_frames=4, rest_range=(3, 3), start_rest=5, end_rest=12)


def _generate(out: Path, *, seed: int = SEED, workers: int = 1) -> datasets.DatasetDict:
    return generate_synthsign(
        out, seed=seed, num_train=SIZES["train"], num_validation=SIZES["validation"], num_test=SIZES["test"],
        num_workers=workers,
    )  # fmt: skip


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, datasets.DatasetDict]:
    out = tmp_path_factory.mktemp("synthsign") / "data"
    return out, _generate(out, workers=2)


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def _appearance(seed: int = 0, signer_id: int = 0):
    rng = np.random.default_rng(seed)
    return sample_clip_appearance(
        rng, sample_signer(rng, signer_id), width=CONFIG.frame_size, height=CONFIG.frame_size
    )


def _sign_timeline(gloss: str, *, lip_offset: int = 0):
    unit = SignUnit(gloss, manual_sign(gloss), tuple(viseme_ids(phonemes(gloss))))
    return build_timeline([unit], STEADY, np.random.default_rng(0), lip_offset=lip_offset)


def _at_rest(timeline):
    """The same timeline with both hands resting throughout (the mouth unchanged)."""
    return dataclasses.replace(
        timeline,
        hand_positions=np.broadcast_to(np.float32(space.REST_LOCATION), timeline.hand_positions.shape).copy(),
        handshapes=np.full_like(timeline.handshapes, REST_HANDSHAPE_ID),
    )


def _mouth_box(appearance, frame: int) -> tuple[slice, slice]:
    """Pixels of ``space.MOUTH_CLEARANCE_BOX``: every viseme is drawn inside it and no hand ever enters it."""
    x0, y0, x1, y1 = space.MOUTH_CLEARANCE_BOX
    left, top = appearance.to_pixels((x0, y0), hand=0, frame=frame)
    right, bottom = appearance.to_pixels((x1, y1), hand=0, frame=frame)
    left, right = sorted((left, right))
    return slice(int(top), int(bottom) + 2), slice(int(left), int(right) + 2)


# --- the data set on disk -------------------------------------------------------------------------------------------


@pytest.mark.compat
def test_splits_sizes_schema_and_files(generated):
    out, dataset = generated
    assert isinstance(dataset, datasets.DatasetDict)
    assert list(dataset) == list(SPLITS) == ["train", "validation", "test"]
    reloaded = datasets.load_from_disk(str(out))
    assert {split: len(reloaded[split]) for split in SPLITS} == SIZES
    assert reloaded["train"].features == builder_module.synthsign_features()
    settings = json.loads((out / SETTINGS_FILE).read_text())
    assert (settings["seed"], settings["sizes"]) == (SEED, SIZES)
    for split in SPLITS:
        for index, row in enumerate(reloaded[split]):
            assert (row["split"], row["id"]) == (split, f"{split}-{index:06d}")
            assert not Path(row["video"]).is_absolute()
            assert (out / row["video"]).is_file()
            assert len(row["segment_labels"]) == len(row["face_boxes"]) == row["num_frames"]
            assert set(row["segment_labels"]) <= {SEGMENT_SIGN, SEGMENT_FINGERSPELLING, SEGMENT_REST}
            assert 0 <= row["lip_offset"] <= CONFIG.max_lip_offset
            assert int(row["signer_id"]) in CONFIG.signer_ids(split)
            assert (row["start"], row["end"], row["source"]) == (None, None, "synthsign")
            assert len(row["gloss_spans"]) == len(row["pseudo_gloss"].split())
            assert row["phonemes"] == phonemes(row["pseudo_gloss"])
    sentences = {split: set(reloaded[split]["sentence"]) for split in SPLITS}
    assert not sentences["train"] & (sentences["validation"] | sentences["test"])
    # The folder is complete and alone: no staging folder is left beside it.
    assert sorted(path.name for path in out.parent.iterdir()) == ["data"]
    card = (out / "README.md").read_text()
    assert f"Seed **{SEED}**" in card
    assert "| train | 3 |" in card


def test_same_seed_same_bytes_whatever_the_workers(generated, tmp_path):
    out, _ = generated
    again = tmp_path / "again"
    _generate(again, workers=1)
    first, second = _files(out), _files(again)
    assert sorted(first) == sorted(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == [], f"files differ between two runs with the same seed: {different}"


def test_decoded_frames_are_identical_for_the_same_seed(generated, tmp_path):
    out, dataset = generated
    row = dataset["test"][0]
    again = tmp_path / "again"
    _generate(again)
    assert np.array_equal(decode_video(out / row["video"]).frames, decode_video(again / row["video"]).frames)


def test_another_seed_gives_another_data_set():
    config = SynthSignConfig()
    first = [plan_example(1, "train", index, config).row for index in range(4)]
    second = [plan_example(2, "train", index, config).row for index in range(4)]
    assert first != second
    assert [row["sentence"] for row in first] != [row["sentence"] for row in second]


def test_splits_can_be_empty_and_bad_arguments_are_named(tmp_path):
    dataset = generate_synthsign(tmp_path / "tiny", seed=1, num_train=1, num_validation=0, num_test=0, num_workers=1)
    assert {split: len(rows) for split, rows in dataset.items()} == {"train": 1, "validation": 0, "test": 0}
    with pytest.raises(ValueError, match="num_validation must be an int >= 0, got -1"):
        generate_synthsign(tmp_path / "bad", num_train=1, num_validation=-1, num_test=0)
    with pytest.raises(FileExistsError, match="already exists"):
        generate_synthsign(tmp_path / "tiny", num_train=1, num_validation=0, num_test=0)
    with pytest.raises(ValueError, match="frame_size must be an even int >= 64"):
        SynthSignConfig(frame_size=99)


def test_an_interrupted_run_leaves_nothing_and_keeps_the_old_data_set(tmp_path, monkeypatch):
    calls = []

    def fail_on_second_clip(plan, root, **kwargs):
        calls.append(plan.row["id"])
        if len(calls) == 2:
            raise RuntimeError("interrupted")
        original(plan, root, **kwargs)

    original = builder_module.render_example
    monkeypatch.setattr(builder_module, "render_example", fail_on_second_clip)
    with pytest.raises(RuntimeError, match="interrupted"):
        generate_synthsign(tmp_path / "new", num_train=3, num_validation=0, num_test=0, num_workers=1)
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setattr(builder_module, "render_example", original)
    generate_synthsign(tmp_path / "old", seed=1, num_train=1, num_validation=0, num_test=0, num_workers=1)
    before = _files(tmp_path / "old")
    monkeypatch.setattr(builder_module, "render_example", fail_on_second_clip)
    calls.clear()
    # Two workers this time: one of them renders two of the three clips and fails, in its own process.
    with pytest.raises(RuntimeError, match="interrupted"):
        generate_synthsign(
            tmp_path / "old", seed=2, num_train=3, num_validation=0, num_test=0, num_workers=2, overwrite=True
        )
    assert _files(tmp_path / "old") == before
    assert [path.name for path in tmp_path.iterdir()] == ["old"]


# --- what the clips show --------------------------------------------------------------------------------------------


def test_clips_read_back_with_decode_video(generated):
    out, dataset = generated
    for row in itertools.chain(dataset["train"], dataset["test"]):
        clip = decode_video(out / row["video"])
        assert clip.frames.shape == (row["num_frames"], CONFIG.frame_size, CONFIG.frame_size, 3)
        assert clip.fps == row["fps"] == CONFIG.fps
        assert not clip.was_subsampled
    plan = plan_example(SEED, "train", 0, CONFIG)
    rendered = render_clip(plan.appearance, plan.timeline).astype(np.int16)
    decoded = decode_video(out / plan.row["video"]).frames.astype(np.int16)
    assert np.abs(decoded - rendered).mean() < 6  # H.264 at crf 16 with 4:2:0 chroma: close to what was drawn


def test_segment_labels_match_the_rendered_hands():
    for index in range(3):
        plan = plan_example(11, "train", index, CONFIG)
        timeline, appearance = plan.timeline, plan.appearance
        labels = np.asarray(plan.row["segment_labels"])
        frames = render_clip(appearance, timeline)
        resting = render_clip(appearance, _at_rest(timeline))
        same = np.all(frames == resting, axis=(1, 2, 3))
        # Rest frames are pixel for pixel the rest pose; every other frame shows a hand somewhere else.
        assert np.array_equal(same, labels == SEGMENT_REST)
        dominant_shapes = timeline.handshapes[:, 0]
        assert np.isin(dominant_shapes[labels == SEGMENT_SIGN], SIGN_HANDSHAPE_IDS).all()
        assert np.isin(dominant_shapes[labels == SEGMENT_FINGERSPELLING], list(LETTER_HANDSHAPE_IDS.values())).all()
        assert labels[0] == labels[-1] == SEGMENT_REST


def test_fingerspelling_shows_the_letters_in_order():
    sentence = "Our teacher is Quinn Simms."
    targets = text_targets(sentence)
    assert targets.letters == "Q U I N N | S I M M S"
    timeline = build_timeline(targets.units, STEADY, np.random.default_rng(0), lip_offset=0)
    # Frames where the hand is held at the fingerspelling location (not travelling to or from it).
    held = np.isclose(timeline.hand_positions[:, 0, 1], space.FINGERSPELLING_LOCATION[1])
    assert np.all(timeline.segments[held] == SEGMENT_FINGERSPELLING)
    shapes, places = timeline.handshapes[held, 0].tolist(), timeline.hand_positions[held, 0, 0].round(3).tolist()
    # Collapse runs of the same (handshape, place): the doubled N and M slide, so each letter is one run.
    runs = [key for key, _ in itertools.groupby(zip(shapes, places, strict=True))]
    letter_of = {handshape: letter for letter, handshape in LETTER_HANDSHAPE_IDS.items()}
    assert "".join(letter_of[shape] for shape, _ in runs) == "QUINNSIMMS"


def test_lip_offset_shifts_the_mouth_against_the_hands_exactly():
    offsets = []
    for index in range(12):
        plan = plan_example(5, "validation", index, CONFIG)
        timeline, offset = plan.timeline, plan.row["lip_offset"]
        if offset in offsets:
            continue
        offsets.append(offset)
        frames = render_clip(plan.appearance, timeline)
        silent = dataclasses.replace(timeline, visemes=np.full_like(timeline.visemes, NEUTRAL_VISEME_ID))
        mouthing = np.any(frames != render_clip(plan.appearance, silent), axis=(1, 2, 3))
        hands_busy = np.asarray(plan.row["segment_labels"]) != SEGMENT_REST
        assert not mouthing[:offset].any()
        assert np.array_equal(mouthing[offset:], hands_busy[: len(hands_busy) - offset]), f"offset {offset}"
    assert len(offsets) >= 3


def _grey_mouth_distance(frames: np.ndarray, reference: np.ndarray, appearance) -> np.ndarray:
    """Per frame, the mean absolute brightness difference of two clips around the mouth."""
    grey, reference_grey = frames.astype(np.float32).mean(axis=3), reference.astype(np.float32).mean(axis=3)
    return np.array([np.abs(grey[t] - reference_grey[t])[_mouth_box(appearance, t)].mean() for t in range(len(grey))])


def test_mouthing_and_its_lip_offset_survive_video_encoding(generated):
    """In the decoded clips, the mouth shows each intended viseme (not the neutral mouth) exactly where planned."""
    out, dataset = generated
    for row in itertools.chain(*dataset.values()):
        plan = plan_example(SEED, row["split"], int(row["id"].rsplit("-", 1)[1]), CONFIG)
        decoded = decode_video(out / row["video"]).frames
        silent = dataclasses.replace(plan.timeline, visemes=np.full_like(plan.timeline.visemes, NEUTRAL_VISEME_ID))
        to_intended = _grey_mouth_distance(decoded, render_clip(plan.appearance, plan.timeline), plan.appearance)
        to_neutral = _grey_mouth_distance(decoded, render_clip(plan.appearance, silent), plan.appearance)
        mouthing = plan.timeline.visemes != NEUTRAL_VISEME_ID
        assert np.all(to_intended[mouthing] < to_neutral[mouthing]), row["id"]
        mouth_onset = int(np.argmax(to_intended < to_neutral))
        hand_onset = int(np.argmax(np.asarray(row["segment_labels"]) != SEGMENT_REST))
        assert mouth_onset - hand_onset == row["lip_offset"], row["id"]


def test_face_boxes_frame_the_rendered_head_with_the_mouth_where_the_cropper_expects_it(generated):
    _, dataset = generated
    plan = plan_example(SEED, "train", 1, CONFIG)
    boxes = np.asarray(dataset["train"][1]["face_boxes"])
    assert boxes.shape == (plan.row["num_frames"], 4)
    # A white head on black: pixels more than half covered by the drawing are >= 128.
    white = (255, 255, 255)
    look = dataclasses.replace(plan.appearance.look, skin=white, hair=white, lips=white)
    appearance = dataclasses.replace(plan.appearance, look=look)
    for frame in (0, len(boxes) // 2, len(boxes) - 1):
        canvas = np.zeros((CONFIG.frame_size, CONFIG.frame_size, 3), dtype=np.uint8)
        draw_head(canvas, appearance, frame, viseme=NEUTRAL_VISEME_ID)
        rows, columns = np.nonzero(canvas.max(axis=2) >= 128)
        drawn = np.array([columns.min(), rows.min(), columns.max(), rows.max()])
        np.testing.assert_allclose(drawn, boxes[frame], atol=1.0)  # tight to a pixel
        x0, y0, x1, y1 = boxes[frame]
        mouth_x, mouth_y = plan.appearance.to_pixels((0.0, space.MOUTH_Y), hand=0, frame=frame)
        expected_x, expected_y = MOUTH_CENTRE_IN_FACE_BOX
        assert mouth_x == pytest.approx(x0 + expected_x * (x1 - x0), abs=0.01)
        assert mouth_y == pytest.approx(y0 + expected_y * (y1 - y0), abs=0.01)
    assert boxes[:, 0].std() > 0  # the body sways: boxes follow the head frame by frame


def test_the_video_processor_crops_faces_from_the_given_boxes(generated):
    from signbind_hf import SignBindVideoProcessor

    out, dataset = generated
    rows = list(dataset["validation"])
    processor = SignBindVideoProcessor(frame_size=32, face_cropper="boxes", face_crop={"size": 32})
    batch = processor(
        [str(out / row["video"]) for row in rows],
        face_boxes=[np.asarray(row["face_boxes"]) for row in rows],
        return_tensors="np",
    )
    for index, row in enumerate(rows):
        frames = row["num_frames"]
        assert batch["attention_mask"][index].sum() == frames
        assert batch["face_attention_mask"][index, :frames].all()  # a face in every frame, no detector needed
        assert batch["face_pixel_values"].shape[-3:] == (3, 32, 32)


# --- lexicon, homonyms, alphabet, templates -----------------------------------------------------------------------


def test_every_gloss_renders_inside_the_frame():
    appearance = _appearance()
    size = CONFIG.frame_size
    for gloss in GLOSSES:
        timeline = _sign_timeline(gloss)
        busy = timeline.segments == SEGMENT_SIGN
        frames = render_clip(appearance, timeline)
        resting = render_clip(appearance, _at_rest(timeline))
        assert np.all(np.any(frames[busy] != resting[busy], axis=(1, 2, 3))), gloss
        # Palm centres stay in the frame under the most extreme framing a clip can get (see sample_clip_appearance).
        x, y = timeline.hand_positions[busy].reshape(-1, 2).T * 0.21 * size
        reach = np.abs(x).max()
        assert 0.45 * size - reach >= 0, gloss
        assert 0.55 * size + reach < size, gloss
        assert 0.39 * size + y.min() >= 0, gloss
        assert 0.45 * size + y.max() < size, gloss


def test_glosses_have_distinct_signs_but_homonyms_share_theirs_and_differ_in_mouthing():
    signs = lexicon()
    assert sorted(signs) == sorted(GLOSSES) == list(GLOSSES)
    grouped = {gloss for group in HOMONYM_GROUPS for gloss in group}
    solo = [signs[gloss].parameters for gloss in GLOSSES if gloss not in grouped]
    shared = [signs[group[0]].parameters for group in HOMONYM_GROUPS]
    assert len(set(solo + shared)) == len(solo) + len(shared)  # no accidental homonyms
    for group in HOMONYM_GROUPS:
        assert len({signs[gloss] for gloss in group}) == 1, group
        mouthings = [tuple(viseme_ids(phonemes(gloss))) for gloss in group]
        assert len(set(mouthings)) == len(group), f"{group} look alike on the lips too"


def test_homonyms_render_the_same_hands_and_a_different_mouth():
    appearance = _appearance(seed=3)
    for group in HOMONYM_GROUPS:
        first, second = (_sign_timeline(gloss, lip_offset=2) for gloss in group[:2])
        assert np.array_equal(first.hand_positions, second.hand_positions)
        assert np.array_equal(first.handshapes, second.handshapes)
        frames_first, frames_second = render_clip(appearance, first), render_clip(appearance, second)
        differ = frames_first != frames_second
        mouth = np.zeros_like(differ)
        for index in range(len(mouth)):
            mouth[index][_mouth_box(appearance, index)] = True
        assert differ.any(), group
        assert not (differ & ~mouth).any(), group


def test_hands_never_cover_the_mouth():
    for sign in set(lexicon().values()):
        assert space.sign_clears_mouth(sign.location, sign.movement, sign.hand_mode), sign.describe()
    assert space.clears_mouth(*space.FINGERSPELLING_LOCATION)
    assert space.clears_mouth(*space.REST_LOCATION)


def test_the_26_letters_and_the_visemes_all_look_different():
    skin, lips = (224, 172, 134), (208, 77, 67)

    def hand(letter: str) -> bytes:
        canvas = np.zeros((48, 48, 3), dtype=np.uint8)
        draw_hand(canvas, (24.0, 26.0), 26.0, _letter_handshape(letter), -1, skin)
        return canvas.tobytes()

    assert len({hand(letter) for letter in LETTERS}) == 26

    def mouth(shape) -> bytes:
        canvas = np.zeros((32, 32, 3), dtype=np.uint8)
        draw_mouth(canvas, (16.0, 16.0), 26.0, shape, lips, skin)
        return canvas.tobytes()

    assert len({mouth(shape) for shape in VISEME_SHAPES.values()}) == len(VISEME_SHAPES)
    assert len(viseme_ids(" ".join(PHONEMES))) == len(PHONEMES)


def _letter_handshape(letter: str):
    from signbind_hf.data.synthsign.handshapes import HANDSHAPES

    return HANDSHAPES[LETTER_HANDSHAPE_IDS[letter]]


def test_splits_have_disjoint_sentences_and_training_sees_every_gloss():
    rng = np.random.default_rng(0)
    drawn = {split: {sample_sentence(rng, split) for _ in range(draws)} for split, draws in SENTENCE_DRAWS.items()}
    for split, sentences in drawn.items():
        assert {sentence_split(sentence) for sentence in sentences} == {split}
    assert not drawn["train"] & (drawn["validation"] | drawn["test"])
    trained = {word for sentence in drawn["train"] for word in pseudo_gloss(sentence).split()}
    assert set(GLOSSES) <= trained
    with pytest.raises(ValueError, match="split must be one of"):
        sample_sentence(rng, "dev")


def test_every_template_glosses_into_the_lexicon_and_names():
    """Each template with each filler of each slot: glosses are signs of the lexicon or fingerspelled names."""
    names = {value.upper() for value in SLOTS["name"] + SLOTS["surname"]}
    seen: set[str] = set()
    for template in TEMPLATES:
        slots = template_slots(template)
        base = {placeholder: SLOTS[slot][int(placeholder[-1].isdigit())] for placeholder, slot in slots}
        variants = [base] + [
            {**base, placeholder: value} for placeholder, slot in slots for value in SLOTS[slot] if value not in base.values()
        ]  # fmt: skip
        for filled in variants:
            targets = text_targets(template.format(**filled))  # raises for a gloss outside the lexicon
            spelled = {word.upper() for word in targets.fingerspelled_words}
            expected = {filled[placeholder].upper() for placeholder, slot in slots if slot in ("name", "surname")}
            assert spelled == expected, template.format(**filled)
            seen.update(targets.pseudo_gloss.split())
    assert sorted(seen - names) == sorted(GLOSSES)  # every gloss of the lexicon is used
    assert {letter for name in names for letter in name} == set(LETTERS)


# --- the command line -----------------------------------------------------------------------------------------------


def test_cli_generates_and_refuses_to_overwrite(tmp_path, caplog):
    out = tmp_path / "cli"
    argv = ["synth", "--out", str(out), "--seed", "4", "--num-train", "2", "--num-val", "1", "--num-test", "1"]
    assert cli_main([*argv, "--workers", "1"]) == 0
    dataset = datasets.load_from_disk(str(out))
    assert {split: len(rows) for split, rows in dataset.items()} == {"train": 2, "validation": 1, "test": 1}
    digest = hashlib.sha256((out / "train" / "state.json").read_bytes()).hexdigest()
    assert cli_main(argv) == 2
    assert "already exists" in caplog.text
    assert hashlib.sha256((out / "train" / "state.json").read_bytes()).hexdigest() == digest
    with pytest.raises(SystemExit):
        cli_main(["synth", "--out", str(out), "--num-train", "-3"])


def test_cli_defaults_match_the_builder():
    assert (synth_command.DEFAULT_NUM_TRAIN, synth_command.DEFAULT_NUM_VALIDATION, synth_command.DEFAULT_NUM_TEST) == (
        DEFAULT_NUM_TRAIN,
        DEFAULT_NUM_VALIDATION,
        DEFAULT_NUM_TEST,
    )


# --- the renderer's keypoints (<clip>.pose) -------------------------------------------------------------------------


def test_every_clip_has_its_renderer_keypoints_beside_it_as_a_pose_file(generated):
    from pose_format import Pose

    from signbind_hf.keypoints_signbind import HAND_COMPONENTS, POSE_COMPONENT, read_pose_file, sidecar_pose_path

    out, dataset = generated
    for split in SPLITS:
        for index, row in enumerate(dataset[split]):
            path = sidecar_pose_path(out / row["video"])
            assert path.name == f"{row['id']}.pose"
            pose = Pose.read(path.read_bytes())
            assert [component.name for component in pose.header.components] == [POSE_COMPONENT, *HAND_COMPONENTS]
            assert (pose.header.dimensions.width, pose.header.dimensions.height) == (CONFIG.frame_size,) * 2
            assert pose.body.fps == row["fps"]
            assert len(pose.body.data) == row["num_frames"]
            plan = plan_example(SEED, split, index, CONFIG)
            expected = clip_keypoints(plan.appearance, plan.timeline, row["fps"])
            keypoints = read_pose_file(path)
            for name in ("pose", "pose_confidence", "hands", "hand_confidence"):
                np.testing.assert_array_equal(getattr(keypoints, name), getattr(expected, name), err_msg=name)


def test_keypoints_are_the_drawn_geometry():
    from signbind_hf.keypoints_signbind import LEFT, POSE_POINTS, RIGHT

    appearance = _appearance(signer_id=0)
    timeline = _sign_timeline(GLOSSES[0])
    keypoints = clip_keypoints(appearance, timeline, fps=25)
    pose_index = {name: index for index, name in enumerate(POSE_POINTS)}
    dominant = RIGHT if appearance.side == -1 else LEFT  # a right-handed signer's dominant hand is on the image left
    for frame in range(0, timeline.num_frames, 5):
        for hand, signer_side in ((0, dominant), (1, 1 - dominant)):
            shoulder, elbow, palm = arm_joints(appearance, timeline, frame, hand)
            name = "LEFT" if signer_side == LEFT else "RIGHT"
            np.testing.assert_allclose(keypoints.pose[frame, pose_index[f"{name}_SHOULDER"], :2], shoulder, rtol=1e-6)
            np.testing.assert_allclose(keypoints.pose[frame, pose_index[f"{name}_ELBOW"], :2], elbow, rtol=1e-6)
            hand_points = keypoints.hands[frame, signer_side, :, :2]
            np.testing.assert_array_equal(keypoints.pose[frame, pose_index[f"{name}_WRIST"], :2], hand_points[0])
            # Every hand point lies on the hand drawn alone (white on black), at its own place in the image.
            canvas = np.zeros((appearance.height, appearance.width, 3), dtype=np.uint8)
            handshape = HANDSHAPES[int(timeline.handshapes[frame, hand])]
            draw_hand(canvas, palm, appearance.unit, handshape, hand_side(appearance, hand), (255, 255, 255))
            columns, rows = np.round(hand_points).astype(int).T
            assert (canvas[rows, columns, 0] > 0).all(), f"frame {frame}, hand {hand}: points off the drawn hand"
        # The signer's left shoulder appears on the image's right.
        left_x = keypoints.pose[frame, pose_index["LEFT_SHOULDER"], 0]
        assert left_x > keypoints.pose[frame, pose_index["RIGHT_SHOULDER"], 0]
    drawn = keypoints.pose_confidence[0] > 0
    assert {POSE_POINTS[index] for index in np.flatnonzero(drawn)} == set(DRAWN_POSE_POINTS)
    assert not drawn[pose_index["NOSE"]]
    assert not drawn[pose_index["LEFT_HIP"]]
    assert (keypoints.pose[:, ~drawn] == 0).all()
    assert (keypoints.hand_confidence == 1).all()
    assert (keypoints.pose[..., 2] == 0).all()
    assert (keypoints.hands[..., 2] == 0).all()


def test_keypoint_mouth_corners_and_eyes_are_on_the_drawn_head():
    from signbind_hf.keypoints_signbind import POSE_POINTS

    appearance = _appearance(signer_id=1)
    timeline = _sign_timeline(GLOSSES[1])
    keypoints = clip_keypoints(appearance, timeline, fps=25)
    face = [index for index, name in enumerate(POSE_POINTS) if "EYE" in name or "MOUTH" in name]
    for frame in range(0, timeline.num_frames, 7):
        x0, y0, x1, y1 = appearance.face_box(frame)
        points = keypoints.pose[frame, face, :2]
        assert ((points[:, 0] > x0) & (points[:, 0] < x1) & (points[:, 1] > y0) & (points[:, 1] < y1)).all()
        # The eye points are the eye dots: dark pixels of the rendered frame.
        canvas = np.zeros((appearance.height, appearance.width, 3), dtype=np.uint8)
        draw_head(canvas, appearance, frame, int(timeline.visemes[frame]))
        eyes = keypoints.pose[frame, [POSE_POINTS.index("LEFT_EYE"), POSE_POINTS.index("RIGHT_EYE")], :2]
        columns, rows = np.round(eyes).astype(int).T
        assert (canvas[rows, columns].max(axis=1) < 60).all()
