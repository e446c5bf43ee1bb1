"""The Space served for real: `signbind app` in a subprocess with the real pipeline on a tiny random model, driven by
gradio_client (8 concurrent requests, bad inputs) and by a headless Chromium (upload an example, read the translation,
save a screenshot under runs/ci_artifacts/).

The browser is Debian's chromium driven by Playwright through ``executable_path`` (no browser download). Where it is
missing the browser test is skipped with how to install it, except in CI (``CI=true``, set by .ci/run), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from signbind_hf import SignBindConfig, SignBindModel, SignBindProcessor

from .test_space import EXAMPLE, SPACE_DIR, write_sparse_video
from .video.synthetic import write_video

# End to end (a served Space, driven over HTTP and in Chromium): `make test-fast` leaves these out.
pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[1]
ARTIFACTS = REPOSITORY / "runs" / "ci_artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "install Debian's chromium and the Python driver: `sudo apt-get install -y chromium` and "
    "`pip install playwright` (or `make venv`); no `playwright install` is needed"
)
MAX_SECONDS = 20  # the server's video length limit (SIGNBIND_MAX_SECONDS)
STARTUP_TIMEOUT_S = 120
# The glosses of the SynthSign example clips, so that the tiny model's gloss vocabulary covers them.
EXAMPLE_GLOSSES = ["OUR DOCTOR OMAR SMITH", "TOMORROW YOUR FATHER WANT SOUP", "YESTERDAY MY MOTHER TIRED"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"`signbind app` exited with {server.returncode} before serving:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"`signbind app` did not serve {url} within {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random SignBindModel and its processor, saved as a model folder: gibberish out, but the real pipeline."""
    folder = tmp_path_factory.mktemp("space") / "model"
    processor = SignBindProcessor.from_preset("tiny", glosses=EXAMPLE_GLOSSES)
    torch.manual_seed(0)
    model = SignBindModel(SignBindConfig.from_preset("tiny", gloss_vocab_size=len(processor.tokenizer)))
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def upload_folder(tmp_path_factory) -> Path:
    """The server's Gradio upload folder (GRADIO_TEMP_DIR), to see what stays there."""
    return tmp_path_factory.mktemp("gradio_uploads")


@pytest.fixture(scope="module")
def server(tiny_model, upload_folder, tmp_path_factory):
    """`signbind app --model TINY --port P` running in a subprocess; yields its URL."""
    workdir = tmp_path_factory.mktemp("app_cwd")  # no runs/ here: the model field holds exactly --model
    log = workdir / "server.log"
    port = _free_port()
    env = {
        **os.environ,
        "SIGNBIND_MAX_SECONDS": str(MAX_SECONDS),
        "GRADIO_TEMP_DIR": str(upload_folder),
        "OMP_NUM_THREADS": "1",  # tiny models gain nothing from threads; spinning workers would slow the browser
        "HF_HUB_OFFLINE": "1",
    }
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "signbind_cli", "app", "--model", str(tiny_model), "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if "Traceback" in log.read_text():
            # Expected failures are messages; a traceback in the log means something failed unexpectedly.
            print(log.read_text()[-5000:])


@pytest.fixture(scope="module")
def client(server) -> Client:
    return Client(server, verbose=False)


def _translate(client: Client, video: Path, model: Path | str) -> tuple:
    return client.predict(handle_file(str(video)), str(model), api_name="/translate")


def test_eight_concurrent_requests_are_all_answered(client, tiny_model):
    examples = sorted((SPACE_DIR / "examples").glob("*.mp4"))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(_translate, client, examples[index % len(examples)], tiny_model) for index in range(8)]
        outputs = [job.result(timeout=120) for job in jobs]
    elapsed = time.perf_counter() - started
    assert len(outputs) == 8
    for translation, pseudo_gloss, _, phonemes, timeline, gate, faces, face_note, details in outputs:
        # No refiner in the tiny model: the translation is the (random model's) pseudo-gloss, and it says so.
        assert translation == pseudo_gloss
        assert isinstance(phonemes, str)
        assert timeline["type"] == gate["type"] == "matplotlib"
        assert Path(faces).is_file()  # the face-crop strip, as an image file
        assert face_note.startswith("Face found in")
        assert "no LLM refiner" in details
    print(f"8 concurrent requests answered in {elapsed:.1f} s")


def test_bad_inputs_get_messages_not_tracebacks(client, tiny_model, upload_folder, tmp_path):
    text_file = tmp_path / "letter.mp4"
    text_file.write_text("Dear Sir or Madam, this is not a video.")
    long_video = write_sparse_video(tmp_path / "lecture.mp4", [0, 900, 1799])
    no_person = write_video(tmp_path / "blocks.mp4", width=96, height=96, num_frames=25)  # coloured blocks, no face
    cases = [
        (no_person, tiny_model, "blocks.mp4: no person found"),
        (text_file, tiny_model, "letter.mp4: not a video file"),
        (
            long_video,
            tiny_model,
            f"lecture.mp4: the video lasts 30 min 0 s, longer than this demo's limit of {MAX_SECONDS}",
        ),
    ]
    for video, model, expected in cases:
        with pytest.raises(AppError) as error:
            _translate(client, video, model)
        assert expected in str(error.value)
        assert "Traceback" not in str(error.value)
        assert "/gradio/" not in str(error.value)  # the server's upload folder stays private
        assert not list(upload_folder.rglob(video.name)), "the upload was not deleted"


def test_models_that_are_not_served_are_refused_alike(client, tiny_model, tmp_path):
    # Through the API the page's dropdown is bypassed: an existing folder, a missing one and a Hub repo id must get
    # the same refusal (up to the value sent, which Gradio repeats), and nothing is loaded or downloaded.
    another_model = tmp_path / "another"
    shutil.copytree(tiny_model, another_model)
    messages = []
    for model in (another_model, tmp_path / "missing", "someorg/some-model"):
        with pytest.raises(AppError) as error:
            _translate(client, EXAMPLE, model)
        messages.append(str(error.value).replace(str(model), "MODEL"))
    assert len(set(messages)) == 1, messages
    assert "is not in the list of choices" in messages[0]


def test_uploads_over_the_size_limit_are_refused(client, tiny_model, tmp_path):
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as file:
        file.truncate(51 * 1024 * 1024)  # sparse: 51 MB on paper, nothing written
    # gradio_client reads the limit from the server's config and refuses before uploading, as the browser does.
    with pytest.raises(ValueError, match="exceeds the maximum file size of 52428800 bytes"):
        _translate(client, huge, tiny_model)


def _chromium() -> str:
    """The Chromium executable, or skip (fail under CI=true) with how to install it."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    problem = None
    if executable is None:
        problem = "no chromium executable on PATH"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is not installed"
    if problem is None:
        return executable
    message = f"browser test: {problem}; {INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (.ci/run installs both)")
    pytest.skip(message)


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)])
def test_a_missing_browser_skips_here_but_fails_in_ci(monkeypatch, ci, outcome):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=r"no chromium executable on PATH; install Debian's chromium .*apt-get install"):
        _chromium()


def test_browser_uploads_an_example_and_shows_the_translation(server):
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "space_translation.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(server, wait_until="domcontentloaded")
            page.locator("#video-input input[type=file]").set_input_files(str(EXAMPLE))
            page.locator("#video-input video").wait_for(timeout=30_000)  # the upload is done and shown
            page.locator("#translate-button").click()
            page.wait_for_function(
                "() => document.querySelector('#translation textarea')?.value.length > 0", timeout=60_000
            )
            translation = page.locator("#translation textarea").input_value()
            pseudo_gloss = page.locator("#pseudo-gloss textarea").input_value()
            page.locator("#face-crops img").wait_for(timeout=30_000)
            page.locator("#router-timeline img").wait_for(timeout=30_000)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert translation.strip()
    assert translation == pseudo_gloss  # the tiny model has no refiner
    assert screenshot.stat().st_size > 10_000


def _fake_camera_file(video: Path, destination: Path) -> Path:
    """``video`` as a .y4m file, which Chromium plays (in a loop) as a fake webcam."""
    import av

    with av.open(str(video)) as source, av.open(str(destination), "w", format="yuv4mpegpipe") as target:
        stream = source.streams.video[0]
        output = target.add_stream("rawvideo", rate=25)
        output.width, output.height, output.pix_fmt = stream.width, stream.height, "yuv420p"
        for frame in source.decode(stream):
            for packet in output.encode(frame.reformat(format="yuv420p")):
                target.mux(packet)
        for packet in output.encode():
            target.mux(packet)
    return destination


def test_browser_live_tab_streams_a_webcam_and_shows_router_gloss_and_sentences(server, tmp_path):
    """Chromium's fake camera plays a SynthSign clip into the live tab: the router state and the frame count move
    while it streams, and "End sentence" lists the sentence (the tiny model's random words)."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    camera = _fake_camera_file(EXAMPLE, tmp_path / "camera.y4m")
    flags = [
        *CHROMIUM_FLAGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "space_live.png"
    received = "() => /(\\d+) frames received/.exec(document.querySelector('#live-router textarea')?.value)?.[1]"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=flags)
        try:
            context = browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 1200})
            page = context.new_page()
            page.goto(server, wait_until="load")  # never "networkidle" on a Gradio page (it keeps a connection)
            page.get_by_role("tab", name="Live (webcam)").click()
            page.get_by_text("Click to Access Webcam").click()
            page.locator("#live-camera button[aria-label='capture photo']").click()  # shown as "Record"
            page.wait_for_function(f"() => ({received})() >= 20", timeout=60_000)
            router = page.locator("#live-router textarea").input_value()
            page.locator("#live-end-sentence").click()
            page.wait_for_function(
                "() => document.querySelector('#live-sentences textarea')?.value.length > 0", timeout=30_000
            )
            sentences = page.locator("#live-sentences textarea").input_value()
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert router.startswith("router: ")
    assert any(f"router: {route}" in router for route in ("sign", "fingerspelling", "rest"))
    assert sentences.startswith("[")
    assert " s] " in sentences
    assert screenshot.stat().st_size > 10_000
