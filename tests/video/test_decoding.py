"""decode_video on real containers written by PyAV: content (which frames were kept), timing and bad input."""

import logging
import os

import av
import numpy as np
import pytest

from signbind_hf import video_decoding_signbind as decoding
from signbind_hf.errors import SignBindInputError
from signbind_hf.video_decoding_signbind import decode_video
from signbind_hf.video_frames_signbind import TimeGridSampler, pad_frames

from .synthetic import WHITE, ffmpeg_fps_codes, read_code, read_codes, write_garbage_h264, write_video

# Every file here is tiny; a decode that takes a minute is a hang (bad input must fail fast).
pytestmark = pytest.mark.timeout(60)

CONTAINERS = [  # (file name, codec, pixel format): one per container family the issue lists
    ("h264.mp4", "libx264", "yuv420p"),
    ("vp9.webm", "libvpx-vp9", "yuv420p"),
    ("mpeg4.avi", "mpeg4", "yuv420p"),
    ("mpeg4.mkv", "mpeg4", "yuv420p"),
    ("mjpeg.mov", "mjpeg", "yuvj420p"),
    ("mjpeg.mkv", "mjpeg", "yuvj420p"),
    ("palette.gif", "gif", "rgb8"),
]


@pytest.mark.parametrize(("file_name", "codec", "pix_fmt"), CONTAINERS)
def test_every_container_decodes_every_frame_in_order(make_video, file_name, codec, pix_fmt):
    path = make_video(file_name, codec=codec, pix_fmt=pix_fmt, num_frames=30, fps=25)

    clip = decode_video(path)

    assert clip.frames.shape == (30, 48, 64, 3)
    assert clip.frames.dtype == np.uint8
    assert read_codes(clip.frames) == list(range(30))
    np.testing.assert_allclose(clip.timestamps, np.arange(30) / 25)
    np.testing.assert_allclose(clip.source_timestamps, np.arange(30) / 25, atol=1e-3)
    assert (clip.num_source_frames, clip.num_grid_frames, clip.was_subsampled) == (30, 30, False)
    assert clip.source_fps == pytest.approx(25)
    assert clip.source_name == str(path)


@pytest.mark.parametrize(
    ("file_name", "codec", "pix_fmt"),
    [
        ("odd.webm", "libvpx-vp9", "yuv420p"),
        ("odd.avi", "mpeg4", "yuv420p"),
        ("odd.mov", "mjpeg", "yuvj420p"),
        ("odd.gif", "gif", "rgb8"),
    ],
)
def test_odd_frame_sizes_keep_their_size(make_video, file_name, codec, pix_fmt):
    path = make_video(file_name, codec=codec, pix_fmt=pix_fmt, width=33, height=47, num_frames=12)

    clip = decode_video(path)

    assert clip.frames.shape == (12, 47, 33, 3)
    assert read_codes(clip.frames) == list(range(12))


def test_frames_are_rgb_not_bgr(make_video):
    clip = decode_video(make_video("red.mp4", codes=[255]))  # every block of code 255 is pure red

    red, green, blue = clip.frames[0].reshape(-1, 3).mean(axis=0)
    assert red > 200
    assert green < 40
    assert blue < 40


@pytest.mark.parametrize(
    ("file_name", "codec", "source_fps", "num_frames"),
    [
        ("fast.mp4", "libx264", 50, 40),  # every other frame
        ("ntsc.mkv", "mpeg4", 30, 36),  # 6 of every 36 frames dropped, unevenly
        ("slow.mkv", "mpeg4", 10, 10),  # frames repeated 2 or 3 times
        ("twelve.webm", "libvpx-vp9", 12, 12),
    ],
)
def test_constant_frame_rates_are_resampled_like_ffmpeg(make_video, file_name, codec, source_fps, num_frames):
    path = make_video(file_name, codec=codec, fps=source_fps, num_frames=num_frames)

    clip = decode_video(path, target_fps=25)

    assert read_codes(clip.frames) == ffmpeg_fps_codes(path, 25)
    assert clip.num_source_frames == num_frames
    assert clip.num_grid_frames == round(num_frames * 25 / source_fps)
    assert not clip.was_subsampled


def test_higher_frame_rate_keeps_every_other_frame(make_video):
    clip = decode_video(make_video("fast.mp4", fps=50, num_frames=40), target_fps=25)

    assert read_codes(clip.frames) == list(range(0, 40, 2))


@pytest.mark.parametrize(("file_name", "codec"), [("vfr.mp4", "libx264"), ("vfr.mkv", "mpeg4")])
def test_variable_frame_rate_is_resampled_like_ffmpeg(make_video, file_name, codec):
    times = [0.0, 0.04, 0.08, 0.20, 0.24, 0.25, 0.26, 0.50, 0.52, 0.54]
    path = make_video(file_name, codec=codec, times=times)

    clip = decode_video(path)

    # Each timestamp rounds to the nearest 1/25 s step (halves up); a step shows the last frame rounded onto or
    # before it: the gap after 0.08 s repeats frame 2, frames 4 and 5 share step 6 (5 wins), 0.26 s rounds to step 7.
    expected = [0, 1, 2, 2, 2, 3, 5, 6, 6, 6, 6, 6, 6, 8, 9]
    assert ffmpeg_fps_codes(path, 25) == expected
    assert read_codes(clip.frames) == expected
    np.testing.assert_allclose(clip.source_timestamps, [times[i] for i in expected], atol=1e-3)
    np.testing.assert_allclose(clip.timestamps, np.arange(15) / 25)


def test_long_clips_are_subsampled_uniformly_and_say_so(make_video):
    clip = decode_video(make_video("long.mp4", num_frames=60), max_frames=10)

    expected = np.round(np.linspace(0, 59, 10)).astype(int).tolist()
    assert read_codes(clip.frames) == expected
    np.testing.assert_allclose(clip.timestamps, np.asarray(expected) / 25)
    assert clip.was_subsampled
    assert (clip.num_grid_frames, clip.num_frames) == (60, 10)
    assert clip.effective_fps == pytest.approx(25 * 10 / 60)


def test_start_and_end_cut_the_window(make_video):
    path = make_video("sentence.mp4", num_frames=75, codec_options={"g": "12"})

    clip = decode_video(path, start=1.0, end=2.0)

    assert read_codes(clip.frames) == list(range(25, 50))
    np.testing.assert_allclose(clip.timestamps, 1.0 + np.arange(25) / 25)
    assert (clip.start, clip.end) == (1.0, pytest.approx(2.0))
    assert clip.num_source_frames == 25


def test_start_between_frames_takes_the_nearest_ones(make_video):
    clip = decode_video(make_video("offset.webm", codec="libvpx-vp9", num_frames=30), start=0.51, end=0.9)

    # frame i at i / 25 s is (i - 12.75) steps after start: frame 13 rounds to step 0, frame 12 to step -1
    assert read_codes(clip.frames) == list(range(13, 23))


def test_start_seeks_instead_of_decoding_from_the_beginning(make_video, monkeypatch):
    pushed = []

    class CountingSampler(TimeGridSampler):
        def push(self, time, item):
            pushed.append(time)
            return super().push(time, item)

    monkeypatch.setattr(decoding, "TimeGridSampler", CountingSampler)
    path = make_video("keyframes.mp4", num_frames=75, codec_options={"g": "12"})

    clip = decode_video(path, start=2.0)

    assert read_codes(clip.frames) == list(range(50, 75))
    # decoding resumed at the keyframe before 2.0 s (frame 48), not at frame 0
    assert min(pushed) >= 48 / 25 - 1e-6


def test_unknown_duration_uses_a_bounded_evenly_spaced_buffer(make_video):
    # A live-written WebM reports no duration: the number of frames to keep is unknown until the end.
    path = make_video("live.webm", codec="libvpx-vp9", num_frames=100, container_options={"live": "1"})
    with av.open(str(path)) as container:
        assert container.duration is None
        assert container.streams.video[0].duration is None

    clip = decode_video(path, max_frames=8)

    codes = read_codes(clip.frames)
    gaps = np.diff(codes)
    assert len(codes) == 8
    assert codes[0] == 0
    assert codes[-1] >= 75  # the kept frames span the clip, not just its start
    assert gaps.min() > 0
    assert gaps.max() <= 2 * gaps.min()
    assert clip.was_subsampled
    assert clip.num_grid_frames == 100


def test_raw_stream_without_timestamps_counts_frames(make_video):
    path = make_video("raw.h264", container_format="h264", num_frames=30)

    assert read_codes(decode_video(path).frames) == list(range(30))
    assert read_codes(decode_video(path, start=0.4).frames) == list(range(10, 30))


def test_display_rotation_is_applied(make_video):
    # A phone video: landscape pictures plus a display matrix turning them 90° counter-clockwise for display.
    path = make_video("phone.mp4", width=64, height=48, codes=[1], colour=WHITE, rotation=90)

    frame = decode_video(path).frames[0]

    assert frame.shape == (64, 48, 3)  # portrait
    # code 1 lights the top-left block; turned counter-clockwise, it ends up bottom-left
    assert frame[-16:, :12].mean() > 200
    assert frame[:16, :12].mean() < 50


@pytest.mark.parametrize(
    ("file_name", "codec", "pix_fmt", "input_format", "colour"),
    [
        ("gray.mkv", "ffv1", "gray", "gray", WHITE),
        ("gray16.mkv", "ffv1", "gray16le", "gray16le", WHITE),
        ("rgb48.mkv", "ffv1", "rgb48le", "rgb48le", (255, 0, 0)),
        ("rgba.mov", "png", "rgba", "rgba", (255, 0, 0)),
    ],
)
def test_grayscale_16_bit_and_alpha_videos_become_rgb(make_video, file_name, codec, pix_fmt, input_format, colour):
    path = make_video(file_name, codec=codec, pix_fmt=pix_fmt, input_format=input_format, colour=colour, num_frames=8)

    clip = decode_video(path)

    assert clip.frames.shape == (8, 48, 64, 3)
    assert read_codes(clip.frames) == list(range(8))
    assert clip.frames[7].max() == 255  # lossless codecs: full-range values survive the 16-bit → 8-bit mapping


def test_4k_frames_are_shrunk_while_decoding(make_video):
    path = make_video("4k.mp4", width=3840, height=2160, num_frames=2, codec_options={"preset": "ultrafast"})

    clip = decode_video(path)

    assert clip.frames.shape == (2, 480, 853, 3)  # shortest edge 480, aspect kept
    assert read_codes(clip.frames) == [0, 1]
    assert decode_video(path, max_shortest_edge=None, max_frames=1).frames.shape == (1, 2160, 3840, 3)


def test_single_frame_video_is_one_frame_then_padded(make_video):
    clip = decode_video(make_video("still.mp4", codes=[5]))

    assert clip.frames.shape == (1, 48, 64, 3)
    assert read_codes(clip.frames) == [5]
    padded, mask = pad_frames(clip.frames, 16)
    assert padded.shape == (16, 48, 64, 3)
    assert mask.tolist() == [1] + [0] * 15
    assert not padded[1:].any()


def test_bytes_decode_like_the_file(make_video):
    path = make_video("clip.webm", codec="libvpx-vp9", num_frames=20)
    data = path.read_bytes()

    clip = decode_video(data, start=0.2)

    assert read_codes(clip.frames) == list(range(5, 20))
    assert clip.source_name == "<video bytes>"
    assert read_codes(decode_video(memoryview(data), name="upload.webm").frames) == list(range(20))


# --- bad input: each fails fast with a SignBindInputError naming the source and the reason -------------------------


def test_missing_file(tmp_path):
    with pytest.raises(SignBindInputError, match=r"nowhere\.mp4: no such file"):
        decode_video(tmp_path / "nowhere.mp4")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(SignBindInputError, match=r"empty\.mp4: the file is empty \(0 bytes\)"):
        decode_video(path)
    with pytest.raises(SignBindInputError, match=r"upload: the video bytes are empty"):
        decode_video(b"", name="upload")


def test_truncated_mp4_without_its_index_is_rejected(make_video):
    path = make_video("cut.mp4", num_frames=30)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # the moov index is written last: now gone

    with pytest.raises(SignBindInputError, match=r"cut\.mp4: cannot be opened as a video container"):
        decode_video(path)


def test_truncated_webm_keeps_the_frames_it_has_and_warns(make_video, caplog):
    path = make_video("cut.webm", codec="libvpx-vp9", num_frames=30)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with caplog.at_level(logging.WARNING, logger="signbind_hf"):
        clip = decode_video(path)

    assert 0 < clip.num_frames < 30
    assert read_codes(clip.frames) == list(range(clip.num_frames))
    assert "cut.webm" in caplog.text
    assert "truncated" in caplog.text


def test_corrupt_bytes_are_rejected(tmp_path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(0).bytes(100_000))
    with pytest.raises(SignBindInputError, match=r"noise\.mp4: cannot be opened as a video container"):
        decode_video(path)


def test_audio_only_file_is_rejected(tmp_path):
    path = tmp_path / "speech.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1600), np.int16), format="s16", layout="mono")
        frame.sample_rate = 16000
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with pytest.raises(
        SignBindInputError, match=r"speech\.wav: the file has no video stream \(streams found: audio\)"
    ):
        decode_video(path)


def test_video_stream_without_frames_is_rejected(tmp_path):
    path = tmp_path / "silent.mkv"  # a video stream is declared, but only audio packets follow
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("pcm_s16le", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1600), np.int16), format="s16", layout="mono")
        frame.sample_rate = 16000
        container.mux(audio.encode(frame))
        container.mux(audio.encode())
    with pytest.raises(SignBindInputError, match=r"silent\.mkv: the video stream has no decodable frames"):
        decode_video(path)


def test_corrupt_video_packets_are_rejected(tmp_path):
    path = write_garbage_h264(tmp_path / "garbage.mp4")
    with pytest.raises(
        SignBindInputError,
        match=r"garbage\.mp4: the video is corrupt: \d+ of 20 packets .* could not be decoded, and no",
    ):
        decode_video(path)


def test_packets_that_never_become_pictures_are_cut_short(make_video, tmp_path, monkeypatch):
    # H.264 with its only keyframe removed: the decoder swallows packets until a picture recovers. The guard stops
    # a stream that does this for too long (here lowered to 10 packets) instead of reading it to the end.
    source = make_video("whole.mkv", num_frames=60, codec_options={"g": "1000", "bf": "0"})
    path = tmp_path / "headless.mkv"
    with av.open(str(source)) as original, av.open(str(path), "w") as copy:
        stream = copy.add_stream_from_template(original.streams.video[0])
        for index, packet in enumerate(original.demux(video=0)):
            if index > 0 and packet.size:
                packet.stream = stream
                copy.mux(packet)
    monkeypatch.setattr(decoding, "MAX_PACKETS_WITHOUT_FRAME", 10)

    with pytest.raises(
        SignBindInputError, match=r"headless\.mkv: 11 packets of the video stream decoded to no picture"
    ):
        decode_video(path)


def test_end_before_start_is_rejected(make_video):
    path = make_video("clip.mp4")
    with pytest.raises(SignBindInputError, match=r"end must be after start; got start=1\.0 s and end=0\.5 s"):
        decode_video(path, start=1.0, end=0.5)
    with pytest.raises(SignBindInputError, match=r"end must be after start"):
        decode_video(path, start=1.0, end=1.0)


@pytest.mark.parametrize(
    ("file_name", "options"),
    [("known.mp4", {}), ("unknown.webm", {"codec": "libvpx-vp9", "container_options": {"live": "1"}})],
)
def test_start_past_the_end_is_rejected(make_video, file_name, options):
    path = make_video(file_name, num_frames=30, **options)  # 1.2 s
    with pytest.raises(
        SignBindInputError, match=rf"{file_name}: start=5\.0 s is past the end of the video \(1\.200 s\)"
    ):
        decode_video(path, start=5.0)


def test_fps_is_rejected_for_containers(make_video):
    with pytest.raises(SignBindInputError, match=r"clip\.mp4: fps= applies to frame folders"):
        decode_video(make_video("clip.mp4"), fps=30)


def test_unsupported_source_type_is_rejected():
    with pytest.raises(SignBindInputError, match=r"source: expected a video path.*got int"):
        decode_video(42)


def test_no_file_handles_leak(make_video):
    path = make_video("clip.mp4", num_frames=10)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        decode_video(path, start=0.1)
    assert len(os.listdir("/proc/self/fd")) <= before


def test_write_video_helper_reads_back(tmp_path):
    # The fixture itself: frames written by PyAV decode to the codes they were given.
    path = write_video(tmp_path / "check.mkv", codec="ffv1", pix_fmt="yuv444p", codes=[3, 200, 77])
    with av.open(str(path)) as container:
        assert [read_code(frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)] == [3, 200, 77]


def test_frames_are_converted_in_one_swscale_thread_and_only_when_kept(make_video, monkeypatch):
    from av.video import reformatter

    calls = []

    real_reformatter = reformatter.VideoReformatter

    class RecordingReformatter:  # wraps the real one: PyAV's extension type cannot be subclassed
        def __init__(self):
            self._real = real_reformatter()

        def reformat(self, frame, **options):
            calls.append(options)
            return self._real.reformat(frame, **options)

    monkeypatch.setattr(reformatter, "VideoReformatter", RecordingReformatter)
    path = make_video("h264.mp4", codec="libx264", pix_fmt="yuv420p", num_frames=30, fps=30)

    clip = decode_video(path, target_fps=15)

    assert read_codes(clip.frames) == list(range(0, 30, 2))
    assert len(calls) == 15  # the frames the 15 fps grid drops are never converted
    if int(av.__version__.split(".")[0]) >= 17:  # PyAV 17 added threaded conversion (on by default)
        assert {options.get("threads") for options in calls} == {1}
