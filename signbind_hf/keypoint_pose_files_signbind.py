"""``Keypoints`` to and from ``.pose`` files, the sign-language processing community's format (``pose-format``).

A file holds one person and three components named as MediaPipe Holistic names them, as ``pose-format``'s own
MediaPipe reader writes them: ``POSE_LANDMARKS`` (33 points), ``LEFT_HAND_LANDMARKS`` and ``RIGHT_HAND_LANDMARKS``
(21 each), points in MediaPipe's order (``keypoint_layout_signbind``), point format ``XYZC``: x/y in the video's own
pixels, z scaled like x, and a confidence that is 0 for points not found. The header carries the video's width and
height, the body its fps. Holistic's ``FACE_LANDMARKS`` and ``POSE_WORLD_LANDMARKS`` are not written (no face mesh is
part of the extractor), so readers that select components by name find the three above.

``pose-format`` is imported on use: only writing or reading a file needs it.
"""

import os
import uuid
from pathlib import Path

import numpy as np

from .errors import SignBindInputError
from .keypoint_extraction_signbind import Keypoints
from .keypoint_layout_signbind import (
    HAND_COMPONENTS,
    HAND_LIMBS,
    HAND_POINTS,
    NUM_HAND_POINTS,
    NUM_POSE_POINTS,
    POSE_COMPONENT,
    POSE_LIMBS,
    POSE_POINTS,
)

POINT_FORMAT = "XYZC"
POSE_COLOURS = [(255, 0, 0)]  # pose-format's Holistic body colour


def sidecar_pose_path(video: str | os.PathLike) -> Path:
    """Where a video's keypoints live beside it: ``clip.mp4`` -> ``clip.pose`` (``pose-format``'s convention, as its
    ``video_to_pose`` writes them). SynthSign writes its clips' keypoints there; the processor reads them from there.
    """
    return Path(video).with_suffix(".pose")


def keypoints_to_pose(keypoints: Keypoints):
    """A ``pose_format.Pose`` holding ``keypoints`` (one person; data (T, 1, 75, 3), confidence (T, 1, 75))."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions
    from pose_format.utils.openpose import hand_colors

    components = [
        PoseHeaderComponent(
            name=POSE_COMPONENT,
            points=list(POSE_POINTS),
            limbs=list(POSE_LIMBS),
            colors=POSE_COLOURS,
            point_format=POINT_FORMAT,
        ),
        *(
            PoseHeaderComponent(
                name=name,
                points=list(HAND_POINTS),
                limbs=list(HAND_LIMBS),
                colors=hand_colors,
                point_format=POINT_FORMAT,
            )
            for name in HAND_COMPONENTS
        ),
    ]
    header = PoseHeader(
        version=0.2,
        dimensions=PoseHeaderDimensions(width=keypoints.width, height=keypoints.height, depth=0),
        components=components,
    )
    num_frames = keypoints.num_frames
    data = np.concatenate(
        [keypoints.pose, keypoints.hands.reshape(num_frames, 2 * NUM_HAND_POINTS, 3)], axis=1
    )  # (T, 75, 3)
    confidence = np.concatenate(
        [keypoints.pose_confidence, keypoints.hand_confidence.reshape(num_frames, 2 * NUM_HAND_POINTS)], axis=1
    )  # (T, 75)
    # Given a plain array, pose-format masks the points whose confidence is 0: how its readers tell "not found".
    body = NumPyPoseBody(
        fps=keypoints.fps, data=data[:, None].astype(np.float32), confidence=confidence[:, None].astype(np.float32)
    )
    return Pose(header, body)


def write_pose_file(keypoints: Keypoints, path: str | os.PathLike) -> Path:
    """Write ``keypoints`` to ``path`` (a ``.pose`` file), atomically: a temporary file in the same folder renamed
    when complete, so that an interrupted run never leaves a half-written ``.pose`` behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pose = keypoints_to_pose(keypoints)
    # A new name opened exclusively, not tempfile.mkstemp: mkstemp's files are private (0600), and a data set's
    # .pose files must be as readable as its videos (the umask decides, as for any file written with open()).
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "xb") as file:
            pose.write(file)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def read_pose_file(path: str | os.PathLike) -> Keypoints:
    """The ``Keypoints`` of a ``.pose`` file with the three components above (as ``write_pose_file`` writes them,
    or as ``pose-format``'s MediaPipe Holistic reader does: other components are ignored; the first person is read).
    """
    from pose_format import Pose

    path = Path(path)
    try:
        pose = Pose.read(path.read_bytes())
    except OSError as error:
        raise SignBindInputError(f"{path}: cannot be read ({error}).") from error
    except Exception as error:  # pose-format raises struct/Value/Index errors on a file that is not a .pose
        raise SignBindInputError(f"{path}: not a readable .pose file ({type(error).__name__}: {error}).") from error
    found = {component.name: component for component in pose.header.components}
    expected = {POSE_COMPONENT: NUM_POSE_POINTS, **dict.fromkeys(HAND_COMPONENTS, NUM_HAND_POINTS)}
    for name, count in expected.items():
        if name not in found or len(found[name].points) != count:
            have = ", ".join(f"{c.name} ({len(c.points)} points)" for c in pose.header.components)
            raise SignBindInputError(
                f"{path}: expected components {', '.join(f'{n} ({c} points)' for n, c in expected.items())}; "
                f"the file has {have}."
            )
    selected = pose.get_components(list(expected))
    data = np.ma.getdata(selected.body.data)[:, 0, :, :3].astype(np.float32)  # (T, 75, 3)
    confidence = np.asarray(selected.body.confidence)[:, 0].astype(np.float32)  # (T, 75)
    num_frames = len(data)
    hands = data[:, NUM_POSE_POINTS:].reshape(num_frames, 2, NUM_HAND_POINTS, 3)
    hand_confidence = confidence[:, NUM_POSE_POINTS:].reshape(num_frames, 2, NUM_HAND_POINTS)
    return Keypoints(
        pose=np.where(confidence[:, :NUM_POSE_POINTS, None] > 0, data[:, :NUM_POSE_POINTS], 0.0).astype(np.float32),
        pose_confidence=confidence[:, :NUM_POSE_POINTS],
        hands=np.where(hand_confidence[..., None] > 0, hands, 0.0).astype(np.float32),
        hand_confidence=hand_confidence,
        fps=float(selected.body.fps),
        width=int(pose.header.dimensions.width),
        height=int(pose.header.dimensions.height),
    )
