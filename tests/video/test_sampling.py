"""The time-grid sampler on its own: planned and bounded-buffer modes, memory bound, lazy loading, padding."""

import logging
import weakref

import numpy as np
import pytest

from signbind_hf.errors import SignBindInputError
from signbind_hf.video_frames_signbind import (
    SamplingOptions,
    TimeGridSampler,
    grid_length,
    grid_step,
    pad_frames,
    uniform_indices,
)


class _Image(np.ndarray):
    """An ndarray subclass, so that kept images can be tracked with weak references."""


def _run(num_frames, *, fps=25.0, expected_end="exact", max_frames=8, start=0.0, end=None):
    """Push frames 0..num_frames-1 at `fps`; return what was sampled, the items loaded, and the most images alive."""
    loaded, alive = [], []

    def load(index):
        loaded.append(index)
        image = np.zeros((2, 2, 3), np.uint8).view(_Image)
        image[0, 0, :2] = divmod(index, 256)  # the item's index, readable back from the kept image
        alive.append(weakref.ref(image))
        return image

    options = SamplingOptions(target_fps=25.0, max_frames=max_frames, start=start, end=end)
    if expected_end == "exact":
        expected_end = num_frames / fps
    sampler = TimeGridSampler(options=options, expected_end=expected_end, load=load, source_name="clip.mp4")
    peak_alive = 0
    for index in range(num_frames):
        keep_going = sampler.push(index / fps, index)
        peak_alive = max(peak_alive, sum(ref() is not None for ref in alive))
        if not keep_going:
            break
    sampled = sampler.finish(last_frame_duration=1 / fps)
    return sampled, loaded, peak_alive


def _kept_indices(sampled):
    return [int(frame[0, 0, 0]) * 256 + int(frame[0, 0, 1]) for frame in sampled.frames]


def test_grid_arithmetic_is_exact_at_boundaries():
    assert grid_length(1.2, 25) == 30  # 0, 0.04, ..., 1.16: 1.2 itself is not before 1.2
    assert grid_length(0.04 * 3, 25) == 3  # 0.12000000000000001 s
    assert grid_length(0.0, 25) == 0
    assert grid_step(0.3, 25) == 8  # 7.5 steps (7.4999... in floats) rounds up, as in FFmpeg
    assert grid_step(0.26, 25) == 7
    assert grid_step(-0.01, 25) == 0
    assert grid_step(-0.03, 25) == -1


@pytest.mark.parametrize(("num_items", "num_keep"), [(10, 10), (5, 10), (60, 10), (513, 512), (1000, 1), (7, 2)])
def test_uniform_indices_are_distinct_sorted_and_span_the_items(num_items, num_keep):
    indices = uniform_indices(num_items, num_keep)

    assert len(indices) == min(num_items, num_keep)
    assert indices[0] == 0
    if num_keep > 1:
        assert indices[-1] == num_items - 1
    assert np.all(np.diff(indices) > 0)
    if num_items > num_keep > 1:
        gaps = np.diff(indices)
        assert gaps.max() - gaps.min() <= 1  # as even as integers allow


def test_planned_mode_loads_only_the_kept_frames_and_holds_none_of_them():
    sampled, loaded, peak_alive = _run(100, max_frames=8)

    assert _kept_indices(sampled) == uniform_indices(100, 8).tolist()
    assert loaded == uniform_indices(100, 8).tolist()  # each kept frame converted once, nothing else
    assert peak_alive <= 1  # copied into the output as it comes: no list of frames to stack later
    assert sampled.was_subsampled
    assert (sampled.num_grid_frames, sampled.num_source_frames) == (100, 100)


def test_repeated_frames_are_loaded_once():
    sampled, loaded, _ = _run(4, fps=5, max_frames=100)  # each frame covers 5 grid steps

    assert _kept_indices(sampled) == [0] * 5 + [1] * 5 + [2] * 5 + [3] * 5
    assert loaded == [0, 1, 2, 3]  # each converted once, however often it repeats


@pytest.mark.parametrize("num_frames", [7, 16, 17, 100, 1000, 5000])
def test_bounded_buffer_never_holds_more_than_twice_max_frames(num_frames):
    max_frames = 8

    sampled, _, peak_alive = _run(num_frames, expected_end=None, max_frames=max_frames)

    kept = _kept_indices(sampled)
    gaps = np.diff(kept)
    assert peak_alive <= 2 * max_frames
    assert len(kept) == min(num_frames, max_frames)
    assert kept[0] == 0
    assert sampled.num_grid_frames == num_frames
    assert sampled.was_subsampled == (num_frames > max_frames)
    if num_frames > max_frames:
        assert gaps.max() <= 2 * gaps.min()  # evenly spaced to within a factor of two
        assert kept[-1] >= num_frames * 0.7  # and spread over the clip, not bunched at its start
    else:
        assert kept == list(range(num_frames))  # short clips come out whole, exactly as in planned mode


def test_under_reported_duration_switches_to_the_bounded_buffer(caplog):
    # The container claims 1 s (25 frames) but 4 s of frames arrive: nothing after 1 s may be dropped.
    with caplog.at_level(logging.WARNING, logger="signbind_hf"):
        sampled, _, _ = _run(100, expected_end=1.0, max_frames=8)

    kept = _kept_indices(sampled)
    assert "clip.mp4: the container reported 1.000 s of video but frames continue past it" in caplog.text
    assert len(kept) == 8
    assert kept[0] == 0
    assert kept[-1] >= 70
    assert sampled.num_grid_frames == 100


def test_over_reported_duration_still_spans_the_video():
    # The container claims 8 s but 4 s arrive: fewer frames, still spread over everything that was decoded.
    sampled, _, _ = _run(100, expected_end=8.0, max_frames=8)

    kept = _kept_indices(sampled)
    assert kept == [index for index in uniform_indices(200, 8).tolist() if index < 100]
    assert sampled.was_subsampled
    assert sampled.num_grid_frames == 100


def test_push_reports_when_later_frames_cannot_matter():
    sampled, loaded, _ = _run(100, start=0.4, end=0.8, max_frames=100)

    assert _kept_indices(sampled) == list(range(10, 20))
    assert max(loaded) == 19
    assert sampled.num_source_frames == 10
    np.testing.assert_allclose(sampled.grid_times, 0.4 + np.arange(10) / 25)


def test_pad_frames_pads_with_zeros_and_masks():
    frames = np.ones((3, 2, 2, 3), np.uint8)

    padded, mask = pad_frames(frames, 5)

    assert padded.shape == (5, 2, 2, 3)
    assert padded.dtype == np.uint8
    assert padded[:3].all()
    assert not padded[3:].any()
    assert mask.tolist() == [1, 1, 1, 0, 0]
    assert mask.dtype == np.int64
    with pytest.raises(SignBindInputError, match=r"cannot pad 3 frames to length 2"):
        pad_frames(frames, 2)


def test_options_reject_an_empty_window():
    with pytest.raises(SignBindInputError, match=r"end must be after start; got start=2\.0 s and end=1\.0 s"):
        SamplingOptions(start=2.0, end=1.0)
    with pytest.raises(SignBindInputError, match=r"start must be a number of seconds >= 0; got True"):
        SamplingOptions(start=True)
