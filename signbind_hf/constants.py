"""Names and inventories shared across the package: one source of truth for each.

Batch keys are the argument names of ``SignBindModel.forward`` and the keys the processor and collators emit.
"""

# --- batch keys -------------------------------------------------------------------------------------------------
PIXEL_VALUES = "pixel_values"  # (B, T, 3, H, W) full frames for the DINOv2 backbone
FACE_PIXEL_VALUES = "face_pixel_values"  # (B, T, 3, h, w) mouth-centred face crops for the lipreading expert
ATTENTION_MASK = "attention_mask"  # (B, T) 1 for real frames, 0 for padding
FACE_ATTENTION_MASK = "face_attention_mask"  # (B, T) 1 where a face was found (or interpolated)
GLOSS_LABELS = "gloss_labels"  # (B, L) pseudo-gloss word ids, -100 padded
SIGN_LABELS = "sign_labels"  # (B, L) the signed words of the pseudo-gloss (the sign expert's target), -100 padded
LETTER_LABELS = "letter_labels"  # (B, L) fingerspelled letter ids, -100 padded
PHONEME_LABELS = "phoneme_labels"  # (B, L) ARPAbet phoneme ids, -100 padded
SEGMENT_LABELS = "segment_labels"  # (B, T) per-frame SEGMENT_* class, -100 where unknown
KEYPOINTS = "keypoints"  # (B, T, 75, 2) shoulder-normalised x, y: 33 body, 21 left-hand, 21 right-hand points
KEYPOINT_MASK = "keypoint_mask"  # (B, T, 75) 1 where the point was found on a real frame

LABEL_NAMES = [GLOSS_LABELS, SIGN_LABELS, LETTER_LABELS, PHONEME_LABELS, SEGMENT_LABELS]

# Label padding value ignored by every loss (the transformers / PyTorch convention).
IGNORE_INDEX = -100

# --- router classes ---------------------------------------------------------------------------------------------
SEGMENT_SIGN = 0
SEGMENT_FINGERSPELLING = 1
SEGMENT_REST = 2
SEGMENT_NAMES = ("sign", "fingerspelling", "rest")

# --- CTC vocabularies -------------------------------------------------------------------------------------------
# Every CTC stream uses id 0 as both the blank and the padding token (the wav2vec2 convention).
BLANK_TOKEN = "<blank>"
BLANK_ID = 0
UNK_TOKEN = "[UNK]"
# In the fusion module's pseudo-gloss, a fingerspelled word: the letter stream says which (see processing_signbind).
SPELLED_WORD_TOKEN = "[FS]"
WORD_BOUNDARY_TOKEN = "|"

LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
# The 39 ARPAbet phonemes of the CMU Pronouncing Dictionary, lower-case, stress digits removed.
PHONEMES = (
    "aa", "ae", "ah", "ao", "aw", "ay", "b", "ch", "d", "dh", "eh", "er", "ey", "f", "g", "hh", "ih", "iy", "jh", "k",
    "l", "m", "n", "ng", "ow", "oy", "p", "r", "s", "sh", "t", "th", "uh", "uw", "v", "w", "y", "z", "zh",
)  # fmt: skip

# Vocabulary sizes of the fixed streams, blank included: blank + 26 letters + word boundary; blank + 39 phonemes.
LETTER_VOCAB_SIZE = 1 + len(LETTERS) + 1
PHONEME_VOCAB_SIZE = 1 + len(PHONEMES)
