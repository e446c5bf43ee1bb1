"""WindowEncoderCache: the visual encoders' results on the open window, kept between the live translator's runs.

The live translator runs the model on the whole open window at every hop. The frame backbone and the lip ViT read
each frame (each lip window) on its own, and a frame's inputs do not change once it is in the window: its backbone
frame at once, its face crop once the face track has finished it (``ClipStream.snapshot``). So their results are
kept from one run to the next and only new frames are encoded; without this, a frame-reading model would encode
every frame again at every run (up to ``1 / HOP_FRACTION_OF_WINDOW`` times). The rest of the model (router,
temporal layers, fusion) reads the whole window and runs in full: it attends across frames.

Reused results are those the model computed for the same inputs, encoded with other frames in the batch: the
same numbers up to the floating-point rounding of another batch size.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch


class KeptRows:
    """An encoder's results on rows 0, 1, 2, ... of the open window (frames, lip windows), kept once final."""

    def __init__(self) -> None:
        self.kept: torch.Tensor | None = None  # (rows kept, ...): the first rows, in order; zero where not encoded

    def __len__(self) -> int:
        return 0 if self.kept is None else len(self.kept)

    def clear(self) -> None:
        self.kept = None

    def drop_first(self, rows: int) -> None:
        """Forget the first ``rows``: the rest become rows 0, 1, ... (the next window starts there)."""
        self.kept = None if self.kept is None or rows >= len(self.kept) else self.kept[rows:].clone()

    def read(
        self, encode: Callable[[torch.Tensor], torch.Tensor], valid: torch.Tensor, final: int
    ) -> torch.Tensor | None:
        """(rows, ...) results: kept ones, ``encode(indices)`` for the valid rows past them, zero for the others;
        rows before ``final`` (whose inputs cannot change any more) are kept for the next read. None when there is
        nothing kept and nothing to encode (no result to take the shape from)."""
        start = min(len(self), len(valid))
        todo = torch.nonzero(valid[start:]).flatten() + start
        fresh = encode(todo) if len(todo) else None
        if fresh is None and self.kept is None:
            return None
        template = fresh if fresh is not None else self.kept
        rows = template.new_zeros(len(valid), *template.shape[1:])
        if start:
            rows[:start] = self.kept[:start]
        if fresh is not None:
            rows[todo] = fresh.to(rows.dtype)
        if final > len(self):
            self.kept = rows[:final].clone()
        return rows


class WindowEncoderCache:
    """Keeps the frame backbone's and the lip ViT's results on the open window of one ``StreamingTranslator``.

    ``with cache.reading(final_face_rows): model(...)`` runs the model with its two encoders reading through the kept
    results; ``clear()`` when a new window begins. A model that centres its frames (``center_frames``: each frame
    minus the window's mean frame, which moves with every new frame) has nothing final to keep: ``enabled`` is
    False and the model runs as it is.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.enabled = not model.config.center_frames
        self.frames = KeptRows()
        self.lip_windows = KeptRows()

    def clear(self) -> None:
        self.frames.clear()
        self.lip_windows.clear()

    def start_window_at(self, row: int) -> None:
        """The next window starts at row ``row`` of this one, with this window's frames from there added again.

        Their backbone results still hold (a frame's backbone input is the frame alone) when the frame encoder's
        stride (``backbone_frame_stride``: it reads rows 0, k, 2k, ... of a window) puts the same frames first. The
        lip windows are encoded again: the next window's face track starts afresh, as offline, and may crop
        differently.
        """
        stride = self.model.config.backbone_frame_stride
        if row % stride:
            self.frames.clear()
        else:
            self.frames.drop_first(row // stride)
        self.lip_windows.clear()

    @contextmanager
    def reading(self, final_face_rows: int) -> Iterator[None]:
        """Run the model inside: the encoders reuse the kept results. A frame is final once it is in the window; a
        lip window once the face track has finished its every frame (the window's first ``final_face_rows``)."""
        if not self.enabled:
            yield
            return
        manual, lip = self.model.manual, self.model.lip
        replaced = []  # (module, method name): instance attributes that hide the class's methods while inside
        if manual.backbone is not None:
            manual.encode_frames = self._frames_reader(manual)
            replaced.append((manual, "encode_frames"))
        if lip is not None:
            lip.encode_all_windows = self._lip_reader(lip, final_windows=final_face_rows // lip.window)
            replaced.append((lip, "encode_all_windows"))
        try:
            yield
        finally:
            for module, name in replaced:
                delattr(module, name)

    def _frames_reader(self, manual: Any) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        original = type(manual).encode_frames.__get__(manual)

        def encode_frames(pixel_values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            if pixel_values.shape[0] != 1:  # the live translator reads one window: anything else is not ours
                return original(pixel_values, mask)

            def encode(rows: torch.Tensor) -> torch.Tensor:
                return original(pixel_values[:, rows], mask[:, rows])[0]

            # A frame's pixels never change once it is in the window; padding rows become frames later.
            rows = self.frames.read(encode, mask[0].bool(), final=int(mask[0].sum()))
            return original(pixel_values, mask) if rows is None else rows[None]

        return encode_frames

    def _lip_reader(self, lip: Any, final_windows: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        original = type(lip).encode_all_windows.__get__(lip)

        def encode_all_windows(windows: torch.Tensor, window_valid: torch.Tensor) -> torch.Tensor:
            if windows.shape[0] != 1:
                return original(windows, window_valid)

            def encode(rows: torch.Tensor) -> torch.Tensor:
                every = torch.ones(1, len(rows), dtype=torch.bool, device=window_valid.device)
                return original(windows[:, rows], every)[0]

            rows = self.lip_windows.read(encode, window_valid[0], final=final_windows)
            return original(windows, window_valid) if rows is None else rows[None]

        return encode_all_windows
