"""The keypoint layout: MediaPipe's 33 body points and 21 points per hand, their names and the bones between them.

One source of truth for the order of points in ``Keypoints`` arrays and in ``.pose`` files (the component names are
MediaPipe Holistic's, as the sign-language processing community's ``pose-format`` writes them). The names and bones
equal MediaPipe's own ``PoseLandmark`` / ``HandLandmark`` enums and connection lists (checked by
``tests/video/test_keypoints.py``); they are spelled out here so that reading the layout needs no MediaPipe.

Left and right are the body's own as it appears in the image: ``LEFT_SHOULDER`` is the signer's left shoulder, on the
image's right in a camera's (not mirrored) view; ``LEFT_HAND_LANDMARKS`` is the hand at the end of the left arm.
"""

POSE_COMPONENT = "POSE_LANDMARKS"
LEFT_HAND_COMPONENT = "LEFT_HAND_LANDMARKS"
RIGHT_HAND_COMPONENT = "RIGHT_HAND_LANDMARKS"
# Index along the hands axis of Keypoints.hands: (T, 2, 21, 3) holds the left hand first.
HAND_COMPONENTS = (LEFT_HAND_COMPONENT, RIGHT_HAND_COMPONENT)
LEFT, RIGHT = 0, 1

POSE_POINTS = (
    "NOSE",
    "LEFT_EYE_INNER",
    "LEFT_EYE",
    "LEFT_EYE_OUTER",
    "RIGHT_EYE_INNER",
    "RIGHT_EYE",
    "RIGHT_EYE_OUTER",
    "LEFT_EAR",
    "RIGHT_EAR",
    "MOUTH_LEFT",
    "MOUTH_RIGHT",
    "LEFT_SHOULDER",
    "RIGHT_SHOULDER",
    "LEFT_ELBOW",
    "RIGHT_ELBOW",
    "LEFT_WRIST",
    "RIGHT_WRIST",
    "LEFT_PINKY",
    "RIGHT_PINKY",
    "LEFT_INDEX",
    "RIGHT_INDEX",
    "LEFT_THUMB",
    "RIGHT_THUMB",
    "LEFT_HIP",
    "RIGHT_HIP",
    "LEFT_KNEE",
    "RIGHT_KNEE",
    "LEFT_ANKLE",
    "RIGHT_ANKLE",
    "LEFT_HEEL",
    "RIGHT_HEEL",
    "LEFT_FOOT_INDEX",
    "RIGHT_FOOT_INDEX",
)
POSE_LIMBS = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)  # fmt: skip

HAND_POINTS = (
    "WRIST",
    "THUMB_CMC",
    "THUMB_MCP",
    "THUMB_IP",
    "THUMB_TIP",
    "INDEX_FINGER_MCP",
    "INDEX_FINGER_PIP",
    "INDEX_FINGER_DIP",
    "INDEX_FINGER_TIP",
    "MIDDLE_FINGER_MCP",
    "MIDDLE_FINGER_PIP",
    "MIDDLE_FINGER_DIP",
    "MIDDLE_FINGER_TIP",
    "RING_FINGER_MCP",
    "RING_FINGER_PIP",
    "RING_FINGER_DIP",
    "RING_FINGER_TIP",
    "PINKY_MCP",
    "PINKY_PIP",
    "PINKY_DIP",
    "PINKY_TIP",
)
HAND_LIMBS = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
    (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)  # fmt: skip

NUM_POSE_POINTS = len(POSE_POINTS)  # 33
NUM_HAND_POINTS = len(HAND_POINTS)  # 21
# The pose wrists: which detected hand is the left one and which the right is decided by the nearest of them.
POSE_WRISTS = (POSE_POINTS.index("LEFT_WRIST"), POSE_POINTS.index("RIGHT_WRIST"))


def mirrored_point_order() -> tuple[int, ...]:
    """For each point of the 75-point layout (body, left hand, right hand), the point it becomes in a mirrored image:
    body points change side by name (``LEFT_ELBOW`` <-> ``RIGHT_ELBOW``, ``MOUTH_LEFT`` <-> ``MOUTH_RIGHT``), the two
    hands change places."""
    swapped = {"LEFT": "RIGHT", "RIGHT": "LEFT"}
    body = [POSE_POINTS.index("_".join(swapped.get(word, word) for word in name.split("_"))) for name in POSE_POINTS]
    left = range(NUM_POSE_POINTS, NUM_POSE_POINTS + NUM_HAND_POINTS)
    right = range(NUM_POSE_POINTS + NUM_HAND_POINTS, NUM_POSE_POINTS + 2 * NUM_HAND_POINTS)
    return (*body, *right, *left)


MIRRORED_POINTS = mirrored_point_order()
