"""Uploaded videos leave the server once translated: they show a signer's face, and the demo has no use for them after.

Gradio keeps every upload in its upload folder (``$GRADIO_TEMP_DIR``, else ``/tmp/gradio``), one folder per content
hash: ``<upload folder>/<hash>/<name>``. After each translation, failed or not, the handler deletes that hash folder
(the upload and any copy Gradio converted beside it). The Space's own example clips are never deleted: Gradio serves
one cached copy of each to every visitor, so deleting it would break the next visitor's click on the example. What a
visitor uploads and never translates is removed by Gradio's own ``delete_cache`` sweep (see app.py).

A clicked example is also translated from the Space's own file rather than from Gradio's copy (:func:`find_example`):
the example keeps its sidecar keypoints (``examples/<name>.pose``, written by SynthSign) beside it, and the copy has
none, so the copy would be read with the keypoints the extractor estimates instead of those evaluation scored.

Known limit: two visitors who upload byte-identical videos share one file; if one translation ends while the other
is still queued, the second finds its upload gone and is asked to upload the video again. Identical
uploads other than the examples are rare enough not to justify reference counting across Gradio's queue.

Example:

```python
>>> examples = example_files(["examples/synthsign-test-000000.mp4"])
>>> find_example("/tmp/gradio/3f2a.../synthsign-test-000000.mp4", examples)  # Gradio's copy of the example
PosixPath('examples/synthsign-test-000000.mp4')
>>> discard_upload("/tmp/gradio/3f2a.../clip.mp4", upload_folder=Path("/tmp/gradio"), keep=examples)
```
"""

import hashlib
import logging
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

Fingerprint = tuple[int, str]  # (size in bytes, SHA-256): the size rules out almost every upload without reading it


def fingerprint(path: Path) -> Fingerprint:
    return path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest()


def example_files(paths: Iterable[str | Path]) -> dict[Fingerprint, Path]:
    """The example clips by fingerprint: Gradio's copy of one is known by its bytes, since its path is Gradio's."""
    return {fingerprint(Path(path)): Path(path) for path in paths}


def find_example(video: str | Path | None, examples: Mapping[Fingerprint, Path]) -> Path | None:
    """The example clip ``video`` is a byte-identical copy of (or is), else None."""
    if not video or not isinstance(video, str | Path) or not Path(video).is_file():
        return None
    path = Path(video)
    if path.stat().st_size not in {size for size, _ in examples}:
        return None
    return examples.get(fingerprint(path))


def discard_upload(video: str | None, *, upload_folder: Path, keep: Mapping[Fingerprint, Path]) -> bool:
    """Delete ``video``'s folder if it is an upload in ``upload_folder`` and not a copy of an example in ``keep``
    (:func:`example_files`); True if deleted.

    Anything outside the upload folder (a path a caller of the API made up, a file of the server) is left alone.
    """
    if not video or not isinstance(video, str | Path):
        return False
    path = Path(video).resolve()
    folder = path.parent
    if folder.parent != upload_folder.resolve() or not path.is_file():
        return False
    if find_example(path, keep) is not None:
        return False
    shutil.rmtree(folder, ignore_errors=True)
    logger.info("deleted the upload %s", folder.name)
    return not folder.exists()
