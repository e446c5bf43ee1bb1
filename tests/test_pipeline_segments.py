"""Router frames -> time segments, and the choice of the cut between two windows of a long video."""

import numpy as np
import pytest

from signbind_hf.constants import SEGMENT_FINGERSPELLING, SEGMENT_REST, SEGMENT_SIGN
from signbind_hf.segments import choose_cut, label_runs, mean_per_run, time_segments

S, F, R = SEGMENT_SIGN, SEGMENT_FINGERSPELLING, SEGMENT_REST


def test_label_runs_merge_equal_neighbours():
    assert label_runs(np.array([R, R, S, S, S, F, R])) == [(R, 0, 2), (S, 2, 5), (F, 5, 6), (R, 6, 7)]
    assert label_runs(np.array([S])) == [(S, 0, 1)]
    assert label_runs(np.array([], dtype=int)) == []
    with pytest.raises(ValueError, match=r"labels must be 1-D"):
        label_runs(np.zeros((2, 3)))


def test_time_segments_tile_the_frames_in_seconds():
    segments = time_segments(np.array([R, S, S, F]), start=2.0, fps=4.0)
    assert segments == [
        {"label": "rest", "start": 2.0, "end": 2.25},
        {"label": "sign", "start": 2.25, "end": 2.75},
        {"label": "fingerspelling", "start": 2.75, "end": 3.0},
    ]


def test_mean_per_run():
    labels = np.array([S, S, R, R, R])
    assert mean_per_run(labels, np.array([0.2, 0.4, 1.0, 0.0, 0.5])) == pytest.approx([0.3, 0.5])
    with pytest.raises(ValueError, match=r"one entry per label"):
        mean_per_run(labels, np.zeros(4))


def test_cut_goes_in_the_middle_of_the_longest_pause_after_search_start():
    #                 0  1  2  3  4  5  6  7  8  9 10 11
    labels = np.array([R, R, R, R, R, S, R, R, S, R, R, R])
    rest = (labels == R).astype(float)
    # The 5-frame pause at 0-4 is before the search range; from frame 5 on, the longest pause is 9-11.
    assert choose_cut(labels, rest, search_start=5) == 10
    # Equally long pauses: the later one, so that the next window starts as late as it can.
    assert choose_cut(np.array([S, R, R, S, R, R]), np.zeros(6), search_start=1) == 5
    # A pause running into the search range counts from the range's first frame.
    assert choose_cut(np.array([R, R, R, R, S, S]), np.zeros(6), search_start=2) == 3


def test_without_a_pause_the_cut_is_where_rest_is_most_likely():
    labels = np.array([S, S, S, F, F, S])
    rest = np.array([0.9, 0.1, 0.2, 0.4, 0.3, 0.1])
    assert choose_cut(labels, rest, search_start=1) == 3  # frame 0 is more rest-like, but before the search range


@pytest.mark.parametrize("search_start", [0, 6, 7])
def test_search_start_must_leave_frames_on_both_sides(search_start):
    with pytest.raises(ValueError, match=r"search_start must be in \(0, 6\)"):
        choose_cut(np.zeros(6, dtype=int), np.zeros(6), search_start)
