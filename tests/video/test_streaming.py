"""Model inputs made while the video decodes (ClipStream, FaceTrack): the same as decoding the whole clip first.

The processor hands each kept frame to a ``ClipStream`` instead of collecting the clip; a ``FaceTrack`` finishes each
frame's face square from the frames around it. These tests hold the streamed outputs to the whole-clip definitions:
gap filling and smoothing over the whole track, detection of every keyframe before any bisection, and the processor's
own whole-clip path.
"""

import copy
import itertools
import pickle
import threading

import av
import numpy as np
import pytest
import torch
from matplotlib import cbook
from PIL import Image

from signbind_hf import SignBindInputError, SignBindVideoProcessor
from signbind_hf.face_tracking_signbind import (
    BoxFaceCropper,
    FaceCropConfig,
    FaceCropper,
    FaceObservation,
    FaceTrack,
    box_iou,
    fill_gaps,
    interpolate_observation,
    smooth_runs,
)
from signbind_hf.landmark_models_signbind import MediaPipeFaceCropper
from signbind_hf.video_decoding_signbind import decode_video
from signbind_hf.video_frames_signbind import CannotStream, SamplingOptions, TimeGridSampler
from signbind_hf.video_transforms_signbind import (
    RING_SLACK,
    BufferPool,
    ClipStream,
    FrameTransform,
    normalize_frames,
    single_threaded_opencv,
)


def whole_track_squares(cropper: FaceCropper, observations: list) -> tuple[np.ndarray, np.ndarray]:
    """The definition FaceTrack streams: squares of every face, gaps filled and runs smoothed over the whole clip."""
    squares = np.array([cropper._square(observation) for observation in observations], dtype=np.float64)
    squares = fill_gaps(squares, cropper.config.max_gap)
    mask = ~np.isnan(squares[:, 0])
    return smooth_runs(squares, mask, cropper.config.smoothing_window), mask


def random_boxes(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """Face boxes drifting about, with scattered misses and sometimes one long stretch without a face."""
    corners = np.cumsum(rng.normal(0, 2, (num_frames, 2)), axis=0) + 40
    boxes = np.concatenate([corners, corners + rng.uniform(20, 40, (num_frames, 1))], axis=1)
    boxes[rng.random(num_frames) < rng.choice([0.0, 0.1, 0.4, 0.8])] = np.nan
    if rng.random() < 0.5:
        start = int(rng.integers(0, num_frames))
        boxes[start : start + int(rng.integers(1, 40))] = np.nan
    return boxes


class LaggingFrames:
    """Frames for a FaceTrack that record how far behind the newest frame each one asked for is."""

    def __init__(self) -> None:
        self.newest = -1
        self.lags: list[int] = []

    def frame_at(self, row: int) -> np.ndarray:
        self.lags.append(self.newest - row)
        return np.zeros((120, 160, 3), dtype=np.uint8)


def test_streamed_squares_are_the_whole_clip_gap_filling_and_smoothing():
    rng = np.random.default_rng(0)
    for _ in range(200):
        num_frames = int(rng.integers(1, 150))
        config = FaceCropConfig(
            size=8,
            max_gap=int(rng.integers(0, 15)),
            smoothing_window=int(rng.choice([1, 3, 5, 9])),
            detect_every=int(rng.integers(1, 12)),
        )
        cropper = BoxFaceCropper(config)
        boxes = random_boxes(rng, num_frames)
        frames = LaggingFrames()
        track = FaceTrack(cropper, frames.frame_at, boxes=boxes)
        handed_out = []
        for newest in range(num_frames):
            frames.newest = newest
            handed_out += track.push()
        handed_out += track.finish()

        observations = [None if np.isnan(box[0]) else FaceObservation(face_box=box) for box in boxes]
        expected, mask = whole_track_squares(cropper, observations)
        np.testing.assert_array_equal(track.face_mask, mask)
        assert [row for row, _ in handed_out] == np.flatnonzero(mask).tolist()  # in order, each face row once
        np.testing.assert_array_equal(np.array([square for _, square in handed_out]).reshape(-1, 3), expected[mask])
        np.testing.assert_array_equal(track.found, ~np.isnan(boxes[:, 0]))
        assert max(frames.lags, default=0) <= track.lookbehind  # never reads a frame that has left the ring


class CodedFaceCropper(FaceCropper):
    """A stand-in detector: frame ``i`` shows a face at the x position written in its first pixel (0: no face).

    It answers from the frame alone and keeps ``previous`` only to record it, as a real detector's answer depends
    only on the frame and the face it follows."""

    def __init__(self, config: FaceCropConfig) -> None:
        super().__init__(config)
        self.calls: list[tuple[float, float]] = []  # (face x of the frame, of the face followed; -1: none)

    def _observe(self, frame, small_frame, scale, previous):
        x = float(frame[0, 0, 0])
        self.calls.append((x, -1.0 if previous is None else float(previous.face_box[0])))
        if x == 0:
            return None, False
        return FaceObservation(face_box=np.array([x, 10.0, x + 30.0, 40.0])), False


def keyframes_first(cropper: CodedFaceCropper, frames: np.ndarray) -> list:
    """Detection as written before streaming: every keyframe first, then the intervals between them, last first."""
    config, num_frames = cropper.config, len(frames)
    observations = [None] * num_frames

    def detect(index, previous):
        observations[index] = cropper._observe(frames[index], frames[index], (1.0, 1.0), previous)[0]
        return observations[index]

    keyframes = sorted({*range(0, num_frames, config.detect_every), num_frames - 1})
    last = None
    for index in keyframes:
        last = detect(index, last) or last
    intervals = list(itertools.pairwise(keyframes))
    while intervals:
        left, right = intervals.pop()
        if right - left < 2:
            continue
        before, after = observations[left], observations[right]
        if before is not None and after is not None and box_iou(before.face_box, after.face_box) >= config.stable_iou:
            for index in range(left + 1, right):
                observations[index] = interpolate_observation(before, after, (index - left) / (right - left))
            continue
        middle = (left + right) // 2
        detect(middle, before or after)
        intervals += [(left, middle), (middle, right)]
    return observations


def test_detecting_interval_by_interval_finds_what_detecting_keyframes_first_finds():
    rng = np.random.default_rng(1)
    for _ in range(100):
        num_frames = int(rng.integers(1, 90))
        xs = np.clip(np.cumsum(rng.choice([0, 0, 1, 6], num_frames)) + 20, 1, 250)
        xs[rng.random(num_frames) < 0.15] = 0  # frames without a face
        frames = np.zeros((num_frames, 4, 4, 3), dtype=np.uint8)
        frames[:, 0, 0, 0] = xs
        config = FaceCropConfig(
            size=8, detect_every=int(rng.integers(1, 10)), detect_max_side=None, max_gap=3, stable_iou=0.8
        )
        streamed, reference = CodedFaceCropper(config), CodedFaceCropper(config)

        result = streamed.crop(frames)

        expected, mask = whole_track_squares(reference, keyframes_first(reference, frames))
        np.testing.assert_array_equal(result.face_mask, mask)
        half = expected[:, 2:] / 2
        expected_boxes = np.concatenate([expected[:, :2] - half, expected[:, :2] + half], axis=1).astype(np.float32)
        np.testing.assert_array_equal(result.boxes, expected_boxes)
        assert sorted(streamed.calls) == sorted(reference.calls)  # the same detector calls, in another order
        assert result.detector_calls == len(reference.calls)


@pytest.fixture(scope="module")
def signer_frames() -> np.ndarray:
    """40 frames of 240x320: Grace Hopper's photograph drifting right, gone for frames 14-19 (a gap to fill)."""
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    face = np.asarray(photo.resize((128, 150), Image.BILINEAR))
    frames = np.full((40, 240, 320, 3), 110, dtype=np.uint8)
    for index in range(40):
        if not 14 <= index < 20:
            left = 60 + 2 * index
            frames[index, 40:190, left : left + 128] = face
    return frames


def whole_clip_inputs(processor: SignBindVideoProcessor, source, **decode_options) -> dict[str, np.ndarray]:
    """The processor's inputs made the way they were before streaming: decode the clip, then transform and crop.

    With the processor's own detector, in single-threaded OpenCV as the processor runs: MediaPipe's landmarks can differ
    in the last float32 bits between two detector instances of one process (seen once in a full test run)."""
    clip = decode_video(
        source,
        target_fps=processor.target_fps,
        max_frames=processor.max_frames,
        max_shortest_edge=processor.max_shortest_edge,
        **decode_options,
    )
    with single_threaded_opencv():
        faces = processor.get_face_cropper(has_boxes=False).crop(clip.frames)
    return {
        "pixel_values": processor.frame_transform(clip.frames),
        "face_pixel_values": normalize_frames(faces.crops, tuple(processor.image_mean), tuple(processor.image_std)),
        "face_attention_mask": faces.face_mask.astype(np.int64),
        "face_crop_boxes": faces.boxes,
    }


@pytest.mark.parametrize("source_kind", ["array", "mp4"])
def test_the_processor_streams_the_inputs_of_the_whole_clip(signer_frames, source_kind, tmp_path):
    if source_kind == "array":
        source = signer_frames
    else:
        source = tmp_path / "signer.mp4"
        with av.open(str(source), "w") as container:
            stream = container.add_stream("libx264", rate=25, options={"crf": "18"})
            stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
            for frame in signer_frames:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
    # The 6 frames without the face are more than max_gap: they get no face (a black crop), the rest one.
    face_crop = {"size": 32, "detect_every": 4, "max_gap": 3}
    processor = SignBindVideoProcessor(frame_size=32, face_crop=face_crop, min_frames=1)

    batch = processor(source, return_tensors="np", return_metadata=True)

    expected = whole_clip_inputs(processor, source)
    assert len(expected["pixel_values"]) == 40
    assert batch["pixel_values"].shape[1] == 40
    np.testing.assert_array_equal(batch["pixel_values"][0], expected["pixel_values"])
    np.testing.assert_array_equal(batch["face_pixel_values"][0], expected["face_pixel_values"])
    np.testing.assert_array_equal(batch["face_attention_mask"][0], expected["face_attention_mask"])
    np.testing.assert_allclose(batch["video_metadata"][0]["face_crop_boxes"], expected["face_crop_boxes"], atol=1e-3)
    assert expected["face_attention_mask"].tolist() == [1] * 14 + [0] * 6 + [1] * 20
    assert batch["video_metadata"][0]["frame_size"] == (320, 240)
    processor.close()


def test_decoding_into_a_sink_keeps_no_frames():
    frames = np.random.default_rng(2).integers(0, 255, (300, 24, 32, 3), dtype=np.uint8)
    stream = ClipStream(FrameTransform(size=16, resample="fast"), None, (0.5,) * 3, (0.5,) * 3)

    clip = decode_video(frames, frame_sink=stream, max_frames=100)

    assert clip.frames is None
    assert clip.num_frames == 100
    assert clip.was_subsampled
    streamed = stream.finish()
    kept = decode_video(frames, max_frames=100).frames
    np.testing.assert_array_equal(streamed.pixel_values, FrameTransform(size=16, resample="fast")(kept))


def test_the_ring_holds_what_the_face_track_may_read_and_some_slack():
    with (
        MediaPipeFaceCropper(FaceCropConfig(size=16)) as cropper,
        ClipStream(FrameTransform(size=16), cropper, (0.5,) * 3, (0.5,) * 3) as stream,
    ):
        decode_video(np.zeros((60, 48, 64, 3), dtype=np.uint8), frame_sink=stream)
        assert len(stream._ring) == FaceTrack(cropper, None).lookbehind + 1 + RING_SLACK < 60
        assert not stream.finish().face_track.face_mask.any()


def test_a_sampler_with_a_sink_refuses_a_video_of_unknown_length():
    options = SamplingOptions(max_frames=8)
    stream = ClipStream(FrameTransform(size=16), None, (0.5,) * 3, (0.5,) * 3)
    with pytest.raises(CannotStream):
        TimeGridSampler(
            options=options, expected_end=None, load=lambda item: item, source_name="live.webm", sink=stream
        )
    # Frames running past the reported end are caught too, where the sampler would switch to its bounded buffer.
    sampler = TimeGridSampler(
        options=options, expected_end=0.2, load=lambda item: item, source_name="short.mp4", sink=stream
    )
    for index in range(6):  # 0.0-0.2 s: frames 0-4 are handed over, frame 5 (at the reported end) is held
        sampler.push(index / 25, np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(CannotStream, match=r"short\.mp4: frames continue past"):
        sampler.push(6 / 25, np.zeros((4, 4, 3), dtype=np.uint8))  # frame 5 would be a sixth of five planned frames


def test_videos_that_cannot_stream_are_decoded_whole(make_video, monkeypatch):
    # A live-written WebM reports no duration: which frames to keep is known only at its end.
    path = make_video("live.webm", codec="libvpx-vp9", num_frames=40, container_options={"live": "1"})
    processor = SignBindVideoProcessor(frame_size=16, face_cropper=None, min_frames=1, max_frames=10)

    batch = processor(path, return_tensors="np")

    clip = decode_video(path, max_frames=10)
    np.testing.assert_array_equal(batch["pixel_values"][0], processor.frame_transform(clip.frames))
    # A container that under-reports its length: streaming stops where frames run past it, and the clip is decoded
    # again without the sink, so no frame after the reported end is lost.
    import signbind_hf.video_decoding_signbind as decoding

    monkeypatch.setattr(decoding, "_reported_duration", lambda container, stream: 0.5)
    mp4 = make_video("clip.mp4", codec="libx264", num_frames=40, fps=25)
    assert processor(mp4, return_tensors="np")["pixel_values"].shape[1] == 10
    assert decode_video(mp4, max_frames=10).timestamps[-1] > 1.0


def signbind_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("signbind-faces")]


def test_an_error_in_the_face_thread_reaches_the_caller_and_stops_it(signer_frames, monkeypatch):
    processor = SignBindVideoProcessor(frame_size=16, face_crop={"size": 16}, min_frames=1)

    def broken(*args, **kwargs):
        raise RuntimeError("the detector broke")

    monkeypatch.setattr(MediaPipeFaceCropper, "_observe", broken)
    with pytest.raises(RuntimeError, match="the detector broke"):
        processor(signer_frames)
    assert signbind_threads() == []
    processor.close()


def test_a_bad_frame_midway_stops_the_face_thread_and_names_the_frame(signer_frames):
    processor = SignBindVideoProcessor(frame_size=16, face_crop={"size": 16}, min_frames=1)
    frames = [*signer_frames[:30], np.zeros((240, 320, 5), dtype=np.uint8)]

    with pytest.raises(SignBindInputError, match=r"\[30\]"):
        processor(frames)
    assert signbind_threads() == []
    processor.close()


def test_the_buffer_pool_hands_an_array_out_again_only_when_nothing_else_holds_it():
    pool = BufferPool()
    first = pool.take("frames", (4, 3, 8, 8))
    address = first.ctypes.data
    del first
    second = pool.take("frames", (4, 3, 8, 8))
    assert second.ctypes.data == address  # dropped, so reused
    # Whatever still refers to the array keeps it: a numpy view of a view, a torch tensor over a slice.
    for make_holder in (lambda array: array[:2][None][0], lambda array: torch.from_numpy(array[:3])[1:]):
        holder = make_holder(second)
        del second
        taken = pool.take("frames", (4, 3, 8, 8))
        assert taken.ctypes.data != address
        assert not np.shares_memory(taken, np.asarray(holder))
        second, address = taken, taken.ctypes.data
        del holder, taken
    # Fewer rows: the first rows of the same array; more rows, another dtype or row shape: a new array.
    del second
    shorter = pool.take("frames", (2, 3, 8, 8))
    assert shorter.shape == (2, 3, 8, 8)
    assert shorter.ctypes.data == address
    del shorter
    longer = pool.take("frames", (5, 3, 8, 8))
    assert longer.shape == (5, 3, 8, 8)
    assert longer.ctypes.data != address
    del longer
    assert pool.take("frames", (5, 3, 8, 8), np.uint8).dtype == np.uint8
    assert pool.take("frames", (5, 3, 4, 4), np.uint8).shape == (5, 3, 4, 4)
    ring, frames = pool.take("ring", (5, 3, 8, 8), np.uint8), pool.take("frames", (5, 3, 8, 8), np.uint8)
    assert not np.shares_memory(ring, frames)


def test_a_copied_buffer_pool_starts_empty():
    pool = BufferPool()
    pool.take("frames", (2, 2))
    for copied in (pickle.loads(pickle.dumps(pool)), copy.deepcopy(pool)):
        assert copied._arrays == {}
    pool.clear()
    assert pool._arrays == {}


def test_two_threads_sharing_a_pool_never_get_the_same_array():
    pool = BufferPool()
    barrier = threading.Barrier(4)
    taken = []

    def take_and_hold() -> None:
        for _ in range(200):
            array = pool.take("frames", (8,))
            taken.append(array)  # held by this list: no other thread may get it
        barrier.wait()

    threads = [threading.Thread(target=take_and_hold) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({array.ctypes.data for array in taken}) == len(taken)


def test_the_processor_reuses_its_output_memory_and_never_overwrites_outputs_still_held(signer_frames):
    face_crop = {"size": 32, "detect_every": 4, "max_gap": 3}
    processor = SignBindVideoProcessor(frame_size=32, face_crop=face_crop, min_frames=1)
    fresh = SignBindVideoProcessor(frame_size=32, face_crop=face_crop, min_frames=1)
    no_face = np.full((40, 240, 320, 3), 110, dtype=np.uint8)  # as long: each clip fits in the memory of the other

    held = processor(no_face)
    kept = {key: value.clone() for key, value in held.items()}
    other = processor(signer_frames)  # while `held` is alive: new memory, `held` untouched
    for key, value in kept.items():
        assert torch.equal(held[key], value), key
    # Plain names, not expressions inside `assert`: pytest keeps those alive, and with them `other`'s memory.
    shared = np.shares_memory(held["pixel_values"].numpy(), other["pixel_values"].numpy())
    address = other["face_pixel_values"].data_ptr()
    del other
    assert not shared
    # Into the memory of the clip with faces: every row is written again, the rows without a face too (black crops).
    again = processor(no_face)
    assert again["face_pixel_values"].data_ptr() == address
    for key, value in fresh(no_face).items():
        assert torch.equal(again[key], value), key
    processor.close()
    fresh.close()


def test_two_threads_sharing_a_processor_get_what_each_would_alone(signer_frames):
    # A demo server shares one processor between requests: each call must get its own memory and face track.
    processor = SignBindVideoProcessor(frame_size=32, face_crop={"size": 32, "detect_every": 4}, min_frames=1)
    clips = [signer_frames, signer_frames[::-1].copy(), np.full((30, 240, 320, 3), 110, dtype=np.uint8)]
    alone = [processor(clip, return_tensors="np") for clip in clips]
    together: dict[int, dict] = {}
    errors = []

    def run(index: int) -> None:
        try:
            for _ in range(3):
                together[index] = processor(clips[index], return_tensors="np")
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(clips))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for index, expected in enumerate(alone):
        for key, value in expected.items():
            np.testing.assert_array_equal(together[index][key], value, err_msg=f"clip {index}, {key}")
    processor.close()
