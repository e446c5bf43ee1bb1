"""Fuzz `signbind translate` and `signbind prepare folder` with mutated real files (issue 19).

A few hundred seeded mutations of a small MP4 and a small manifest CSV (bit flips, truncations, overwritten and
repeated chunks, edited header fields) go through the CLI in this process (``signbind_cli.main.main``: no interpreter
or torch import per case). Each case must end with a known exit code and at most one line of error (no traceback,
no exception out of ``main``), within a bounded time; the whole run must stay within a bounded amount of memory.
"""

import logging
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from signbind_cli.main import main

from .test_pipeline import save_tiny_model
from .video.synthetic import write_video

# End to end (whole CLI runs on many mutated inputs): `make test-fast` leaves these out.
pytestmark = pytest.mark.slow

SEED = 19
NUM_TRANSLATE_CASES = 150
NUM_PREPARE_CASES = 150
# Generous for a loaded 2-core CI machine: a case takes ~0.1 s (translate, model load included) or ~0.03 s (prepare).
CASE_SECONDS = 10.0
# Growth of the process's peak resident memory over all the cases: a bomb (a header claiming a huge frame, a huge
# sample count) would cost gigabytes; a case costs a few MB at most.
MEMORY_GROWTH_MB = 300
# Fields of the MP4 boxes that hold sizes, counts, durations and dimensions: where a header edit does most harm.
MP4_BOXES = (
    b"ftyp",
    b"moov",
    b"mvhd",
    b"trak",
    b"tkhd",
    b"mdhd",
    b"hdlr",
    b"stsd",
    b"avc1",
    b"avcC",
    b"stts",
    b"stsz",
)
MP4_BOXES += (b"stco", b"stsc", b"stss", b"mdat")
EDGE_VALUES = (0, 1, 0x7FFFFFFF, 0xFFFFFFFF)


def flip_bits(data: bytes, rng: np.random.Generator) -> bytes:
    mutated = bytearray(data)
    for _ in range(rng.integers(1, 9)):
        mutated[rng.integers(len(mutated))] ^= 1 << int(rng.integers(8))
    return bytes(mutated)


def truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: rng.integers(0, len(data))]


def overwrite_chunk(data: bytes, rng: np.random.Generator) -> bytes:
    start = int(rng.integers(len(data)))
    size = int(rng.integers(1, 200))
    fill = [rng.bytes(size), b"\0" * size, b"\xff" * size][rng.integers(3)]
    return data[:start] + fill + data[start + size :]


def repeat_chunk(data: bytes, rng: np.random.Generator) -> bytes:
    start = int(rng.integers(len(data)))
    chunk = data[start : start + int(rng.integers(1, 500))]
    return data[:start] + chunk * int(rng.integers(2, 5)) + data[start:]


def edit_mp4_header(data: bytes, rng: np.random.Generator) -> bytes:
    """A 32-bit field of a box (its size just before the type, or a field after it) set to an edge or random value."""
    boxes = [box for box in MP4_BOXES if box in data]
    at = data.find(boxes[rng.integers(len(boxes))])
    offset = at + int(rng.choice([-4, 4, 8, 12, 16, 20, 24, 28]))
    value = int(rng.choice(EDGE_VALUES)) if rng.random() < 0.7 else int(rng.integers(2**32))
    return data[:offset] + value.to_bytes(4, "big") + data[offset + 4 :]


def edit_csv_header(data: bytes, rng: np.random.Generator) -> bytes:
    """The header line with a column dropped, repeated, renamed to junk, or the line replaced by random bytes."""
    header, _, rest = data.partition(b"\n")
    columns = header.split(b",")
    index = int(rng.integers(len(columns)))
    choice = rng.integers(4)
    if choice == 0:
        del columns[index]
    elif choice == 1:
        columns.insert(index, columns[index])
    elif choice == 2:
        columns[index] = rng.bytes(int(rng.integers(1, 12)))
    else:
        return rng.bytes(int(rng.integers(1, 80))) + b"\n" + rest
    return b",".join(columns) + b"\n" + rest


def mutate(data: bytes, rng: np.random.Generator, edit_header: Callable) -> tuple[str, bytes]:
    mutations = (flip_bits, truncate, overwrite_chunk, repeat_chunk, edit_header)
    mutation = mutations[rng.integers(len(mutations))]
    return mutation.__name__, mutation(data, rng)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("fuzz") / "model", use_lip=False)


def run_case(argv: list[str], *, case: str, allowed: set[int], caplog, capsys) -> None:
    caplog.clear()
    tick = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        try:
            status = main(argv)
        except BaseException as error:  # SystemExit included: argparse exits on bad arguments only, never here
            pytest.fail(f"{case}: main raised {type(error).__name__}: {error}")
    seconds = time.perf_counter() - tick
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    err = capsys.readouterr().err
    assert status in allowed, f"{case}: exit status {status}"
    assert len(errors) <= 1, f"{case}: {len(errors)} errors: {[record.getMessage() for record in errors]}"
    assert all("\n" not in record.getMessage() for record in errors), f"{case}: {errors[0].getMessage()}"
    assert not any(record.exc_info for record in caplog.records), f"{case}: a traceback was logged"
    assert "Traceback" not in err, f"{case}: {err}"
    assert seconds < CASE_SECONDS, f"{case}: took {seconds:.1f} s"


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def test_translate_survives_mutated_videos(model_dir, tmp_path, caplog, capsys):
    originals = [
        write_video(tmp_path / "clip.mp4", num_frames=20).read_bytes(),
        # The index first (as a web upload is): truncations keep the index and cut the frames instead.
        write_video(tmp_path / "fast.mp4", num_frames=20, container_options={"movflags": "faststart"}).read_bytes(),
    ]
    rng = np.random.default_rng(SEED)
    peak_before = peak_memory_mb()
    for index in range(NUM_TRANSLATE_CASES):
        name, data = mutate(originals[index % 2], rng, edit_mp4_header)
        video = tmp_path / f"case{index}.mp4"
        video.write_bytes(data)
        argv = ["translate", str(video), "--model", str(model_dir), "--json"]
        run_case(argv, case=f"translate case {index} ({name})", allowed={0, 2}, caplog=caplog, capsys=capsys)
        video.unlink()
    assert peak_memory_mb() - peak_before < MEMORY_GROWTH_MB


def test_prepare_folder_survives_mutated_manifests_and_clips(tmp_path, caplog, capsys):
    clips = tmp_path / "corpus" / "clips"
    clips.mkdir(parents=True)
    clip = write_video(clips / "a.mp4", width=32, height=24, num_frames=10, fps=10).read_bytes()
    write_video(clips / "b.mp4", width=32, height=24, num_frames=20, fps=10)
    manifest = tmp_path / "corpus" / "manifest.csv"
    text = (
        b"path,text,start,end,split\n"
        b"clips/a.mp4,Where did you meet Laurene?,0.0,1.0,train\n"
        b"clips/b.mp4,Hello there.,,,test\n"
        b"clips/b.mp4,See you tomorrow.,0.5,1.5,train\n"
    )
    rng = np.random.default_rng(SEED)
    peak_before = peak_memory_mb()
    for index in range(NUM_PREPARE_CASES):
        if index % 3 == 2:  # one case in three damages a clip the manifest names, the others the manifest
            name, data = mutate(clip, rng, edit_mp4_header)
            (clips / "a.mp4").write_bytes(data)
            manifest.write_bytes(text)
        else:
            name, data = mutate(text, rng, edit_csv_header)
            (clips / "a.mp4").write_bytes(clip)
            manifest.write_bytes(data)
        argv = ["prepare", "folder", "--manifest", str(manifest), "--out", str(tmp_path / f"out{index}")]
        run_case(argv, case=f"prepare case {index} ({name})", allowed={0, 2}, caplog=caplog, capsys=capsys)
    assert peak_memory_mb() - peak_before < MEMORY_GROWTH_MB
