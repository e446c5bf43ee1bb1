"""SignBindProcessor: videos (and training targets) in, ``SignBindModel.forward``'s tensors out; CTC output back to text.

It holds a ``SignBindVideoProcessor`` (decoding, sampling, frames, face crops; its settings include the face cropper's)
and the three CTC tokenizers: pseudo-gloss words (``tokenizer``, saved at the top of the folder, so
``AutoTokenizer.from_pretrained(checkpoint)`` is the gloss tokenizer), fingerspelled letters and ARPAbet phonemes (in
the ``letter_tokenizer/`` and ``phoneme_tokenizer/`` sub-folders).

Example:

```python
>>> processor = SignBindProcessor.from_preset("tiny", glosses=["HAVE DIFFERENT HERE", "GAIN BALANCE"])
>>> inputs = processor(videos=["a.mp4", "frames/"], glosses=["HAVE HERE", "GAIN BALANCE"], letters=["", "L A U R A"],
...                    phonemes=["hh ae v", "g ey n"])
>>> output = model(**inputs)  # losses and logits
>>> processor.batch_decode(output, inputs["attention_mask"])["gloss"]
['HAVE HERE', 'GAIN BALANCE']
```

Kept flat with relative imports so that it is exported as remote code beside the model, with the whole video stack
(see ``video_processing_signbind``); ``save_pretrained`` also writes the face model files to ``face_models/``, so
``AutoProcessor.from_pretrained(folder, trust_remote_code=True)`` works where signbind-hf is not installed.
"""

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from huggingface_hub import create_repo, upload_folder
from transformers import BatchFeature, ProcessorMixin
from transformers.utils import cached_file

from .configuration_signbind import SignBindConfig
from .constants import (
    BLANK_ID,
    BLANK_TOKEN,
    GLOSS_LABELS,
    LETTER_LABELS,
    PHONEME_LABELS,
    SEGMENT_FINGERSPELLING,
    SIGN_LABELS,
    SPELLED_WORD_TOKEN,
    UNK_TOKEN,
)
from .ctc_decoding import decode_spans, decode_streams
from .errors import SignBindInputError
from .landmark_models_signbind import FACE_MODELS_DIR, SAVED_DETECTOR_FILE, SAVED_LANDMARK_FILE
from .segments import label_runs
from .tokenization_signbind import GLOSS_STREAM, LETTER_STREAM, PHONEME_STREAM, SignBindCTCTokenizer
from .video_processing_signbind import KEYPOINT_MODEL_FILES, KEYPOINT_MODELS_DIR, SignBindVideoProcessor

logger = logging.getLogger(__name__)

TEXT = "text"
PROCESSOR_CONFIG_FILE = "processor_config.json"  # where ProcessorMixin.save_pretrained writes the settings
# What from_pretrained passes on to fetching files (Hub cache and revision); the face models are fetched the same way.
DOWNLOAD_ARGUMENTS = ("cache_dir", "force_download", "local_files_only", "proxies", "revision", "token")


class SignBindProcessor(ProcessorMixin):
    """Turns sign-language videos into model inputs and the model's CTC streams back into text.

    Args:
        video_processor (`SignBindVideoProcessor`): decoding, frame and face-crop settings.
        tokenizer (`SignBindCTCTokenizer`): the pseudo-gloss tokenizer (``stream="gloss"``); also ``gloss_tokenizer``.
        letter_tokenizer (`SignBindCTCTokenizer`): fingerspelling letters (``SignBindCTCTokenizer.for_letters()``).
        phoneme_tokenizer (`SignBindCTCTokenizer`): ARPAbet phonemes (``SignBindCTCTokenizer.for_phonemes()``).
    """

    def __init__(
        self,
        video_processor: SignBindVideoProcessor,
        tokenizer: SignBindCTCTokenizer,
        letter_tokenizer: SignBindCTCTokenizer,
        phoneme_tokenizer: SignBindCTCTokenizer,
        **kwargs: Any,
    ) -> None:
        for argument, value, stream in (
            ("tokenizer", tokenizer, GLOSS_STREAM),
            ("letter_tokenizer", letter_tokenizer, LETTER_STREAM),
            ("phoneme_tokenizer", phoneme_tokenizer, PHONEME_STREAM),
        ):
            if getattr(value, "stream", None) != stream:
                raise SignBindInputError(
                    f"{argument} must be a SignBindCTCTokenizer for the {stream!r} stream; got "
                    f"{type(value).__name__} with stream {getattr(value, 'stream', None)!r}"
                )
        super().__init__(video_processor, tokenizer, letter_tokenizer, phoneme_tokenizer, **kwargs)

    @classmethod
    def from_preset(
        cls,
        name: str,
        *,
        glosses: Sequence[str] | None = None,
        gloss_tokenizer: SignBindCTCTokenizer | None = None,
        **video_settings: Any,
    ) -> "SignBindProcessor":
        """The processor for ``SignBindConfig.from_preset(name)`` (``"paper"`` or ``"tiny"``).

        The gloss vocabulary is a data set's: give its target texts (``glosses``, one pseudo-gloss string per clip)
        or a ready ``gloss_tokenizer``. Set the model's ``gloss_vocab_size`` to ``len(processor.tokenizer)``.
        ``video_settings`` override the video processor's (``max_frames=..., face_cropper=...``).
        """
        return cls.from_model_config(
            SignBindConfig.from_preset(name), glosses=glosses, gloss_tokenizer=gloss_tokenizer, **video_settings
        )

    @classmethod
    def from_model_config(
        cls,
        config: SignBindConfig,
        *,
        glosses: Sequence[str] | None = None,
        gloss_tokenizer: SignBindCTCTokenizer | None = None,
        **video_settings: Any,
    ) -> "SignBindProcessor":
        """The processor matching a model config (frame and face sizes); see :meth:`from_preset`."""
        if glosses is not None and gloss_tokenizer is not None:
            raise SignBindInputError(
                "give at most one of glosses= (the pseudo-gloss targets of your data set, to build the gloss "
                "vocabulary from) and gloss_tokenizer= (a SignBindCTCTokenizer.for_glosses(...))"
            )
        if glosses is not None:
            gloss_tokenizer = SignBindCTCTokenizer.for_glosses(glosses)
        elif gloss_tokenizer is None:
            # Enough to turn videos into model inputs; gloss labels and decoding need a data set's vocabulary.
            logger.warning(
                "no gloss vocabulary given: every gloss word encodes and decodes as %s; pass glosses= or "
                "gloss_tokenizer= to train or to read the gloss stream",
                UNK_TOKEN,
            )
            gloss_tokenizer = SignBindCTCTokenizer(vocab={BLANK_TOKEN: BLANK_ID, UNK_TOKEN: 1}, stream="gloss")
        return cls(
            SignBindVideoProcessor.from_model_config(config, **video_settings),
            gloss_tokenizer,
            SignBindCTCTokenizer.for_letters(),
            SignBindCTCTokenizer.for_phonemes(),
        )

    # ProcessorMixin checks every sub-processor against the base class of its modality; for `video_processor` that is
    # the torchvision-only BaseVideoProcessor, which ours does not need. The check named here is the one ProcessorMixin
    # hook we override (tests/test_transformers_contract.py pins it).
    def check_argument_for_proper_class(self, argument_name: str, argument: Any) -> type:
        if argument_name != "video_processor":
            return super().check_argument_for_proper_class(argument_name, argument)
        if not isinstance(argument, SignBindVideoProcessor):
            raise TypeError(f"video_processor must be a SignBindVideoProcessor; got {type(argument).__name__}")
        return SignBindVideoProcessor

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        subfolder: str = "",
        trust_remote_code: bool | None = None,
        **kwargs: Any,
    ) -> "SignBindProcessor":
        """Load a processor written by :meth:`save_pretrained`, from a local folder or a Hub repo.

        Our own loader, not ProcessorMixin's: transformers builds every ``*_processor`` through its Auto class
        (AutoVideoProcessor needs torchvision) and that private path has changed between minor releases. This one
        reads ``processor_config.json``, builds the video processor from its settings (with the face models saved
        beside it) and the three tokenizers as this module's own class, so a remote-code copy of this file uses the
        copies beside it.

        Args:
            pretrained_model_name_or_path: a folder or a Hub repo id.
            subfolder: where the processor sits inside it.
            trust_remote_code: accepted because ``AutoProcessor`` passes it; this class is the code it trusted.
            kwargs: ``cache_dir``, ``force_download``, ``local_files_only``, ``proxies``, ``revision``, ``token``
                (for every file), and tokenizer loading options.
        """
        del trust_remote_code
        download = {name: kwargs[name] for name in DOWNLOAD_ARGUMENTS if name in kwargs}
        tokenizer_kwargs = {name: value for name, value in kwargs.items() if not name.startswith("_")}
        config_file = cached_file(
            pretrained_model_name_or_path,
            PROCESSOR_CONFIG_FILE,
            subfolder=subfolder,
            _raise_exceptions_for_missing_entries=False,
            **download,
        )
        if config_file is None:
            raise SignBindInputError(
                f"{pretrained_model_name_or_path}: no {PROCESSOR_CONFIG_FILE}"
                f"{f' in {subfolder!r}' if subfolder else ''}; expected a folder written by "
                "SignBindProcessor.save_pretrained"
            )
        try:
            settings = json.loads(Path(config_file).read_text(encoding="utf-8")).get("video_processor")
        except (OSError, ValueError, AttributeError) as error:
            raise SignBindInputError(f"{config_file}: cannot read it as a JSON object: {error}") from error
        if not isinstance(settings, dict):
            raise SignBindInputError(
                f"{config_file} has no 'video_processor' settings; expected a folder written by "
                "SignBindProcessor.save_pretrained"
            )
        if settings.get("face_cropper", "mediapipe") == "mediapipe":
            settings = {**settings, **_saved_face_models(pretrained_model_name_or_path, subfolder, download)}
        if settings.get("keypoints") and settings.get("keypoint_extractor", "mediapipe") == "mediapipe":
            settings = {**settings, **_saved_keypoint_models(pretrained_model_name_or_path, subfolder, download)}
        tokenizers = {}
        for name in ("tokenizer", "letter_tokenizer", "phoneme_tokenizer"):
            folder = subfolder if name == "tokenizer" else "/".join(part for part in (subfolder, name) if part)
            tokenizers[name] = SignBindCTCTokenizer.from_pretrained(
                pretrained_model_name_or_path, subfolder=folder, **tokenizer_kwargs
            )
        return cls(SignBindVideoProcessor(**settings), **tokenizers)

    def save_pretrained(
        self, save_directory: str | os.PathLike, push_to_hub: bool = False, **kwargs: Any
    ) -> list[str]:
        """``ProcessorMixin.save_pretrained`` plus the face model files (``face_models/``, see
        ``SignBindVideoProcessor.save_face_models``) and, when it extracts keypoints, the hand and body models
        (``keypoint_models/``), so that the folder's remote code needs no signbind-hf.

        With ``push_to_hub=True`` the whole folder is uploaded once everything is written (``repo_id``,
        ``commit_message``, ``token``, ``private`` as for ``push_to_hub``).
        """
        files = list(super().save_pretrained(save_directory))
        files += self.video_processor.save_face_models(save_directory)
        files += self.video_processor.save_keypoint_models(save_directory)
        if push_to_hub:
            token = kwargs.get("token")
            repo_id = kwargs.get("repo_id", Path(save_directory).name)
            repo_id = create_repo(repo_id, exist_ok=True, token=token, private=kwargs.get("private")).repo_id
            upload_folder(
                repo_id=repo_id,
                folder_path=save_directory,
                commit_message=kwargs.get("commit_message") or "Upload processor",
                token=token,
            )
        return files

    @property
    def gloss_tokenizer(self) -> SignBindCTCTokenizer:
        return self.tokenizer

    @property
    def model_input_names(self) -> list[str]:
        # The tokenizers' ids are targets (labels), never model inputs.
        return list(self.video_processor.model_input_names)

    def __call__(
        self,
        videos: Any = None,
        text: str | Sequence[str] | None = None,
        glosses: str | Sequence[str] | None = None,
        letters: str | Sequence[str] | None = None,
        phonemes: str | Sequence[str] | None = None,
        signs: str | Sequence[str] | None = None,
        face_boxes: Any = None,
        return_tensors: str = "pt",
        **video_kwargs: Any,
    ) -> BatchFeature:
        """Model inputs for ``videos``, and CTC labels for the targets given.

        Args:
            videos: one video or a list (see ``SignBindVideoProcessor.preprocess``: files, bytes, frame folders,
                image lists, arrays, tensors).
            text: the English sentence of each clip. The visual model does not read it (it is the LLM refiner's
                target): it is returned unchanged as a list of strings under ``"text"`` so that it travels with the
                clip (``Trainer`` drops it as an unused column; drop it yourself before ``model(**inputs)``).
            glosses, letters, phonemes: the training targets of each clip, one string per video: pseudo-gloss
                (``"HAVE DIFFERENT HERE"``), fingerspelled letters (``"L A U R E N E | S I M M S"`` or
                ``"laurene simms"``; ``""`` when nothing is fingerspelled) and ARPAbet phonemes
                (``"hh ae v"``). They become ``gloss_labels``, ``letter_labels`` and ``phoneme_labels`` (B, L),
                padded with -100.
            signs: the sign expert's own target when it differs from the fusion's: the pseudo-gloss without its
                fingerspelled words (``signbind_hf.targets.signed_words``), in the gloss vocabulary. It becomes
                ``sign_labels``; without it the sign expert learns ``gloss_labels``.
            face_boxes: per video, face boxes to use instead of detection (see ``SignBindVideoProcessor``).
            return_tensors: ``"pt"`` (default) or ``"np"``.
            video_kwargs: ``fps``, ``start``, ``end``, ``normalized_face_boxes``, ``return_metadata``, and
                ``keypoints`` (per video a ``Keypoints`` or a ``.pose`` path) when the video processor has the
                ``keypoints`` setting.

        Returns:
            ``BatchFeature`` with ``pixel_values``, ``face_pixel_values``, ``attention_mask``, ``face_attention_mask``,
            ``keypoints`` and ``keypoint_mask`` with the ``keypoints`` setting, the label tensors for the targets
            given, and ``text`` when given.
        """
        targets = {GLOSS_LABELS: glosses, SIGN_LABELS: signs, LETTER_LABELS: letters, PHONEME_LABELS: phonemes}
        if videos is None and all(value is None for value in targets.values()):
            raise SignBindInputError("give videos= (and optionally glosses=, letters=, phonemes= targets)")
        batch_size = None
        data: dict[str, Any] = {}
        if videos is not None:
            features = self.video_processor(
                videos, face_boxes=face_boxes, return_tensors=return_tensors, **video_kwargs
            )
            data.update(features.data)
            batch_size = len(features["attention_mask"])
        elif face_boxes is not None or video_kwargs:
            raise SignBindInputError(
                f"face_boxes and {sorted(video_kwargs)} apply to videos, and no videos were given"
            )
        tokenizers = {GLOSS_LABELS: self.tokenizer, SIGN_LABELS: self.tokenizer, LETTER_LABELS: self.letter_tokenizer}
        tokenizers[PHONEME_LABELS] = self.phoneme_tokenizer
        argument_names = {
            GLOSS_LABELS: "glosses", SIGN_LABELS: "signs", LETTER_LABELS: "letters", PHONEME_LABELS: "phonemes"
        }  # fmt: skip
        for key, value in targets.items():
            if value is None:
                continue
            texts = _one_string_per_clip(argument_names[key], value, batch_size)
            batch_size = len(texts)
            data[key] = tokenizers[key](texts, return_tensors=return_tensors)["labels"]
        if text is not None:
            data[TEXT] = _one_string_per_clip("text", text, batch_size)
        return BatchFeature(data=data, skip_tensor_conversion=[TEXT, "video_metadata"])

    def batch_decode(
        self, output: Any, attention_mask: Any = None, beam_width: int | None = None, skip_special_tokens: bool = False
    ) -> dict[str, list[str]]:
        """CTC-decode every stream of a ``SignBindOutput`` to text, one string per clip.

        Args:
            output: what ``SignBindModel.forward`` returned.
            attention_mask: the (B, T) ``attention_mask`` of the inputs, so that padding frames are not decoded;
                ``None`` decodes every frame.
            beam_width: ``None`` for greedy decoding, else CTC prefix beam search with this many beams.
            skip_special_tokens: drop ``[UNK]`` from the gloss streams.

        Returns:
            ``{"gloss": [...], "sign": [...], "fingerspelling": [...], "phoneme": [...]}`` for the streams the model
            produced: the fused pseudo-gloss, the sign expert's own glosses, fingerspelled words and phonemes. The
            fused pseudo-gloss has its fingerspelled words from the letter stream (``fill_spelled_words`` with
            ``spelled_words``). To
            decode label ids instead, use ``processor.tokenizer.batch_decode(ids, ctc=False)``.
        """
        if not hasattr(output, "gloss_logits"):
            raise SignBindInputError(
                f"batch_decode expects a SignBindOutput (the model's output), got {type(output).__name__}; decode "
                "token ids with processor.tokenizer / letter_tokenizer / phoneme_tokenizer .batch_decode(ids)"
            )
        tokenizers = {
            "gloss": self.tokenizer,
            "sign": self.tokenizer,
            "fingerspelling": self.letter_tokenizer,
            "phoneme": self.phoneme_tokenizer,
        }
        decoded = decode_streams(output, attention_mask, beam_width=beam_width)
        # The ids are already CTC-collapsed, so repeats left in them are real (ctc=False keeps them).
        texts = {
            stream: tokenizers[stream].batch_decode(ids, ctc=False, skip_special_tokens=skip_special_tokens)
            for stream, ids in decoded.items()
        }
        if "gloss" in texts and "fingerspelling" in texts:
            # Without the router's decisions (an output built by hand), the whole letter stream in order.
            has_routes = getattr(output, "router_logits", None) is not None
            spelled = self.spelled_words(output, attention_mask, beam_width) if has_routes else texts["fingerspelling"]
            texts["gloss"] = [
                fill_spelled_words(gloss, words) for gloss, words in zip(texts["gloss"], spelled, strict=True)
            ]
        return texts

    def spelled_words(self, output: Any, attention_mask: Any = None, beam_width: int | None = None) -> list[str]:
        """Per clip, the words the letter stream reads in each run of frames the router gives to fingerspelling, in
        order (``"OMAR SMITH"``): each run is decoded on its own, so two words spelled apart stay two words even where
        the letter stream misses the word boundary between them."""
        routes = output.router_logits.detach().argmax(-1).cpu().numpy()  # (B, T): the eval router's decision
        if attention_mask is None:
            lengths = [routes.shape[1]] * len(routes)
        else:
            lengths = [int(length) for length in attention_mask.sum(-1)]
        logits = output.fingerspelling_logits.detach().float().cpu().numpy()
        words = []
        for clip_routes, clip_logits, length in zip(routes, logits, lengths, strict=True):
            runs = [
                (start, end)
                for label, start, end in label_runs(clip_routes[:length])
                if label == SEGMENT_FINGERSPELLING
            ]
            read = (
                self.letter_tokenizer.batch_decode(decode_spans(clip_logits, runs, beam_width), ctc=False)
                if runs
                else []
            )
            words.append(" ".join(word for word in read if word))
        return words


def fill_spelled_words(gloss: str, spelled: str) -> str:
    """The fused pseudo-gloss with each ``[FS]`` (a fingerspelled word) replaced by the word the letter stream read.

    Both streams run forward in time, so the k-th ``[FS]`` is the k-th word of ``spelled`` (the letter stream decoded,
    ``"OMAR SMITH"``). An ``[FS]`` the letter stream read no word for is left out; letter words beyond the last
    ``[FS]`` are not added (the fusion saw no spelled word there).

    >>> fill_spelled_words("OUR DOCTOR [FS] [FS]", "OMAR SMITH")
    'OUR DOCTOR OMAR SMITH'
    """
    words = iter(spelled.split())
    filled = []
    for token in gloss.split():
        if token != SPELLED_WORD_TOKEN:
            filled.append(token)
        elif (word := next(words, None)) is not None:
            filled.append(word)
    return " ".join(filled)


def _saved_face_models(folder: str | os.PathLike, subfolder: str, kwargs: dict[str, Any]) -> dict[str, str]:
    """The face model files saved in a processor folder (local or on the Hub), as video processor arguments.

    Folders saved before the models travelled with them have none: the cropper then uses the environment variables
    or the files packaged with signbind-hf (and says so, naming the file, when neither exists).
    """
    files = {"face_detector_model_path": SAVED_DETECTOR_FILE, "face_landmark_model_path": SAVED_LANDMARK_FILE}
    return _saved_models(folder, subfolder, FACE_MODELS_DIR, files, kwargs)


def _saved_keypoint_models(folder: str | os.PathLike, subfolder: str, kwargs: dict[str, Any]) -> dict[str, str]:
    """The hand and body model files saved in a processor folder's ``keypoint_models/``, as video processor
    arguments (those missing fall back as the face models do)."""
    return _saved_models(folder, subfolder, KEYPOINT_MODELS_DIR, KEYPOINT_MODEL_FILES, kwargs)


def _saved_models(
    folder: str | os.PathLike, subfolder: str, models_dir: str, files: dict[str, str], kwargs: dict[str, Any]
) -> dict[str, str]:
    """``{argument: local path}`` of the ``files`` (argument -> file name) found in ``models_dir`` of a folder."""
    download = {name: kwargs[name] for name in DOWNLOAD_ARGUMENTS if name in kwargs}
    models_folder = f"{subfolder}/{models_dir}" if subfolder else models_dir
    found = {}
    for argument, name in files.items():
        path = cached_file(
            folder,
            name,
            subfolder=models_folder,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
            **download,
        )
        if path is not None:
            found[argument] = path
    return found


def _one_string_per_clip(argument: str, value: str | Sequence[str], batch_size: int | None) -> list[str]:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, Sequence) or not all(isinstance(item, str) for item in texts):
        raise SignBindInputError(f"{argument}: expected one string per video; got {value!r:.200}")
    if batch_size is not None and len(texts) != batch_size:
        raise SignBindInputError(f"{argument}: expected one string per video ({batch_size} videos); got {len(texts)}")
    return list(texts)


__all__ = ["SignBindProcessor"]
