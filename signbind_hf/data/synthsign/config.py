"""Every default of SynthSign generation, in one place, with the reason for each value."""

from dataclasses import asdict, dataclass

# Bumped whenever a change makes the same seed produce different data (lexicon, templates, rendering, timing).
SYNTHSIGN_VERSION = "1.1"  # 1.1: each clip has its renderer's keypoints beside it (<clip>.pose)

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SynthSignConfig:
    """How SynthSign clips are made (the split sizes and the seed are arguments of ``generate_synthsign``).

    Args:
        frame_size: width and height of the square frames in pixels (even, for H.264's 4:2:0 chroma). 128 shows the
            mouth about 9 pixels wide and the hands about 19 pixels long; processors resize to the model's input.
        fps: frame rate; 25 is the rate the video processor samples at by default, so frames map one to one.
        max_lip_offset: the mouthing lags the hands by 0 to this many frames, drawn per clip. 8 frames (a third of
            a second) spans the paper's fixed-shift ablation (0, 5, 10 frames) but for its largest value.
        train_signers / validation_signers / test_signers: sizes of the split-disjoint pools of signer identities
            (the evaluation splits show signers never seen in training).
        crf: x264 constant rate factor (0 lossless, 51 worst); 16 keeps the mouth's few pixels intact.
    """

    frame_size: int = 128
    fps: int = 25
    max_lip_offset: int = 8
    train_signers: int = 24
    validation_signers: int = 6
    test_signers: int = 6
    crf: int = 16

    def __post_init__(self) -> None:
        def fail(name: str, expected: str) -> None:
            raise ValueError(f"SynthSignConfig.{name} must be {expected}, got {getattr(self, name)!r}")

        if not isinstance(self.frame_size, int) or self.frame_size < 64 or self.frame_size % 2:
            fail("frame_size", "an even int >= 64 (pixels)")
        if not isinstance(self.fps, int) or self.fps < 1:
            fail("fps", "a positive int")
        if not isinstance(self.max_lip_offset, int) or self.max_lip_offset < 0:
            fail("max_lip_offset", "an int >= 0 (frames)")
        for name in ("train_signers", "validation_signers", "test_signers"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                fail(name, "an int >= 1")
        if not isinstance(self.crf, int) or not 0 <= self.crf <= 51:
            fail("crf", "an int in [0, 51]")

    def signer_ids(self, split: str) -> range:
        """The signer identities of ``split``: consecutive, disjoint ranges for train, validation and test."""
        sizes = {"train": self.train_signers, "validation": self.validation_signers, "test": self.test_signers}
        if split not in sizes:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        start = sum(sizes[name] for name in SPLITS[: SPLITS.index(split)])
        return range(start, start + sizes[split])

    def to_dict(self) -> dict:
        return asdict(self)
