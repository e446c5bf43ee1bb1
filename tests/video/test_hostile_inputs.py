"""Hostile or damaged clips (issue 19, items 7 and 9): each is refused in one line naming the file, or read in full.

Every input is written here, small: a PNG header claiming a huge image (no huge image is ever made), an MP4 whose
header understates its length, clips with bytes overwritten in the middle, a truncated clip.
"""

import logging
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from signbind_hf import video_frames_signbind
from signbind_hf.errors import SignBindInputError
from signbind_hf.video_decoding_signbind import MAX_CORRUPT_PACKET_FRACTION, decode_video
from signbind_hf.video_frames_signbind import MAX_FRAME_PIXELS

from .synthetic import coded_frame, read_codes


def png_header(width: int, height: int) -> bytes:
    """A PNG claiming ``width`` x ``height`` RGB pixels, with one row of data: only its header can be read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlacing
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    )


def frame_folder(folder: Path, bad: bytes) -> Path:
    from PIL import Image

    folder.mkdir()
    for index in range(3):
        Image.fromarray(coded_frame(index, 64, 48)).save(folder / f"{index}.png")
    (folder / "3.png").write_bytes(bad)
    return folder


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (100_000, 100_000),  # 10 Gpx: over twice PIL's limit, where Image.open itself raised DecompressionBombError
        (9_000, 9_000),  # 81 Mpx: under PIL's limit, which would decode it (~2.5 GB on the way to RGB)
        (7_681, 4_320),  # one column over 8K UHD
    ],
)
def test_a_frame_over_the_pixel_limit_is_refused_before_decoding(tmp_path, width, height):
    folder = frame_folder(tmp_path / "frames", png_header(width, height))
    with pytest.raises(SignBindInputError, match=r"3\.png: .*over the limit of 33,177,600 pixels") as caught:
        decode_video(folder)
    assert "\n" not in str(caught.value)


def test_a_frame_at_the_pixel_limit_is_not_refused_for_its_size(tmp_path):
    folder = frame_folder(tmp_path / "frames", png_header(7_680, 4_320))  # 8K UHD exactly; its pixels are missing
    with pytest.raises(SignBindInputError, match=r"3\.png: cannot be read as an image"):
        decode_video(folder)
    assert MAX_FRAME_PIXELS == 7_680 * 4_320


def test_video_streams_get_the_same_limit_from_their_header(make_video, monkeypatch):
    # Encoding an 8K clip would take seconds: the limit is lowered under the clip's 64x48 instead.
    path = make_video("clip.mp4", num_frames=5)
    monkeypatch.setattr(video_frames_signbind, "MAX_FRAME_PIXELS", 64 * 48 - 1)
    with pytest.raises(SignBindInputError, match=r"clip\.mp4: a frame of 64x48 pixels is over the limit of 3,071"):
        decode_video(path)
    with pytest.raises(SignBindInputError, match=r"frames\[0\]: a frame of 64x48 pixels is over the limit"):
        decode_video([coded_frame(0, 64, 48)], name="frames")


def test_an_empty_path_is_not_the_current_folder(tmp_path, monkeypatch):
    frame_folder(tmp_path / "frames", png_header(64, 48))
    monkeypatch.chdir(tmp_path / "frames")  # a readable frame folder, which Path("") would have read
    with pytest.raises(
        SignBindInputError, match=r"source: the path is empty; expected a video file or a frame folder"
    ):
        decode_video("")


@pytest.mark.parametrize("shape", [(48, 64, 3), (48, 64, 4), (48, 64, 1)])
def test_one_image_array_is_not_a_clip(shape):
    image = np.zeros(shape, dtype=np.uint8)
    with pytest.raises(
        SignBindInputError, match=r"one image \(H, W, C\), not a clip; a clip is \(T, H, W, 3\).*\[image\]"
    ):
        decode_video(image)
    assert decode_video([image]).num_frames == 1  # wrapped in a list: one frame, as the message says


def test_a_grey_clip_is_still_a_clip():
    assert decode_video(np.zeros((5, 48, 64), dtype=np.uint8)).num_frames == 5


def lying_mp4(path: Path, factor: int) -> Path:
    """``path`` with the durations in its mvhd, tkhd and mdhd boxes divided by ``factor`` (version-0 boxes)."""
    data = bytearray(path.read_bytes())
    # Offset of the 32-bit duration from the box type: after the type, version/flags and the two 32-bit times, plus
    # the time scale (mvhd, mdhd) or the track id and a reserved word (tkhd).
    offsets = {b"mvhd": 20, b"mdhd": 20, b"tkhd": 24}
    for box, offset in offsets.items():
        at = data.find(box)
        assert at > 0, box
        assert data[at + 4] == 0, f"{box} is not a version-0 box"
        (duration,) = struct.unpack_from(">I", data, at + offset)
        struct.pack_into(">I", data, at + offset, duration // factor)
    lying = path.with_name("lying_" + path.name)
    lying.write_bytes(data)
    return lying


def test_a_header_that_understates_the_length_still_gives_every_frame(make_video):
    import av

    path = lying_mp4(make_video("clip.mp4", num_frames=60), factor=4)  # 2.4 s of frames, the header says 0.6 s
    with av.open(str(path)) as container:
        assert container.duration / 1e6 == pytest.approx(0.6)

    assert read_codes(decode_video(path).frames) == list(range(60))
    late = decode_video(path, start=1.0)  # a window past the claimed end: was "start=1.0 s is past the end (0.600 s)"
    assert (late.start, late.end) == (1.0, 2.4)
    assert read_codes(late.frames) == list(range(25, 60))
    with pytest.raises(SignBindInputError, match=r"start=5\.0 s is past the end of the video \(2\.400 s\)"):
        decode_video(path, start=5.0)


def overwrite_middle(path: Path, size: int, fill: bytes = b"\xff") -> Path:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle - size // 2 : middle - size // 2 + size] = fill * size
    damaged = path.with_name("damaged_" + path.name)
    damaged.write_bytes(data)
    return damaged


def test_a_corrupt_packet_in_a_long_video_costs_only_its_own_frames(make_video, caplog):
    path = overwrite_middle(make_video("long.mp4", num_frames=250), 200)  # 10 s; was: the whole video refused
    with caplog.at_level(logging.WARNING, logger="signbind_hf"):
        clip = decode_video(path)
    assert clip.num_frames == 250
    assert 0 < clip.corrupt_packets <= MAX_CORRUPT_PACKET_FRACTION * 250
    codes = read_codes(clip.frames)
    assert codes[:100] == list(range(100))  # the damage is in the middle: the start is intact
    assert codes[-20:] == list(range(230, 250))  # and so is the end (the next keyframe recovers the picture)
    assert f"long.mp4: {clip.corrupt_packets} of 250 packets of the video stream could not be decoded" in caplog.text


def test_a_clip_mostly_corrupt_is_called_corrupt(make_video):
    path = overwrite_middle(make_video("short.mp4", num_frames=20), 200, fill=b"\0")
    with pytest.raises(SignBindInputError, match=r"short\.mp4: the video is corrupt: \d+ of 20 packets .* allowed\)"):
        decode_video(path)


def test_a_truncated_clip_keeps_the_frames_before_the_cut(make_video, caplog):
    path = make_video("cut.mp4", num_frames=100, container_options={"movflags": "faststart"})  # index first
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    with caplog.at_level(logging.WARNING, logger="signbind_hf"):
        clip = decode_video(path)
    assert 0 < clip.num_frames < 100
    assert read_codes(clip.frames) == list(range(clip.num_frames))
    assert "may be truncated" in caplog.text
