"""Uploaded videos leave the server once translated: they show a signer's face, and the demo has no use for them after.

Gradio keeps every upload in its upload folder (``$GRADIO_TEMP_DIR``, else ``/tmp/gradio``), one folder per content
hash: ``<upload folder>/<hash>/<name>``. After each translation, failed or not, the handler deletes that hash folder
(the upload and any copy Gradio converted beside it). The Space's own example clips are never deleted: Gradio serves
one cached copy of each to every visitor, so deleting it would break the next visitor's click on the example. What a
visitor uploads and never translates is removed by Gradio's own ``delete_cache`` sweep (see app.py).

Known limit: two visitors who upload byte-identical videos share one file; if one translation ends while the other
is still queued, the second finds its upload gone and is asked to upload the video again. Identical
uploads other than the examples are rare enough not to justify reference counting across Gradio's queue.

Example:

```python
>>> keep = example_fingerprints(["examples/synthsign-test-000000.mp4"])
>>> discard_upload("/tmp/gradio/3f2a.../clip.mp4", upload_folder=Path("/tmp/gradio"), keep=keep)
```
"""

import hashlib
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

Fingerprint = tuple[int, str]  # (size in bytes, SHA-256): the size rules out almost every upload without reading it


def fingerprint(path: Path) -> Fingerprint:
    return path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest()


def example_fingerprints(paths: Iterable[str | Path]) -> frozenset[Fingerprint]:
    """The fingerprints of the example clips, whose cached copies must stay."""
    return frozenset(fingerprint(Path(path)) for path in paths)


def discard_upload(video: str | None, *, upload_folder: Path, keep: frozenset[Fingerprint]) -> bool:
    """Delete ``video``'s folder if it is an upload in ``upload_folder`` and not an example; True if deleted.

    Anything outside the upload folder (a path a caller of the API made up, a file of the server) is left alone.
    """
    if not video or not isinstance(video, str | Path):
        return False
    path = Path(video).resolve()
    folder = path.parent
    if folder.parent != upload_folder.resolve() or not path.is_file():
        return False
    if path.stat().st_size in {size for size, _ in keep} and fingerprint(path) in keep:
        return False
    shutil.rmtree(folder, ignore_errors=True)
    logger.info("deleted the upload %s", folder.name)
    return not folder.exists()
