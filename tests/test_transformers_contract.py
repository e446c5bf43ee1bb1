"""The transformers behaviours signbind-hf leans on beyond its documented API, one test each.

When a transformers release moves one of them, the test named after it fails (and the `compat` leg of .ci/run, which
runs these against the newest release pyproject.toml allows, says so before a user meets it). Each test names the
transformers code it relies on and where we use it.
"""

import json

import pytest
import transformers
from transformers import AutoModel, ProcessorMixin, pipeline
from transformers.utils import cached_file

import signbind_hf
from signbind_hf import SignBindProcessor
from signbind_hf.pipeline_signbind import TASK, SignBindTranslationPipeline
from signbind_hf.tokenization_signbind import SignBindCTCTokenizer
from signbind_hf.video_processing_signbind import SignBindVideoProcessor

from .conftest import tiny_config

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def processor():
    return SignBindProcessor.from_preset("tiny", glosses=["HAVE DIFFERENT HERE", "GAIN BALANCE"])


def test_processor_attributes_come_from_the_init_signature(processor):
    # ProcessorMixin.get_attributes() reads the sub-processors from __init__'s parameter names; save_pretrained,
    # to_dict and __init__ walk that list (processing_signbind.SignBindProcessor.__init__).
    assert SignBindProcessor.get_attributes() == [
        "video_processor",
        "tokenizer",
        "letter_tokenizer",
        "phoneme_tokenizer",
    ]
    assert isinstance(processor.video_processor, SignBindVideoProcessor)


def test_processor_init_checks_each_argument_through_the_overridable_hook(processor):
    # ProcessorMixin.__init__ calls self.check_argument_for_proper_class(name, value) for every sub-processor; our
    # override accepts SignBindVideoProcessor without the torchvision-only BaseVideoProcessor.
    with pytest.raises(TypeError, match="video_processor must be a SignBindVideoProcessor; got str"):
        SignBindProcessor("not a video processor", processor.tokenizer, processor.letter_tokenizer,
                          processor.phoneme_tokenizer)  # fmt: skip


def test_processor_save_writes_the_video_processor_settings_into_processor_config(processor, tmp_path):
    # ProcessorMixin.save_pretrained writes processor_config.json with each non-tokenizer sub-processor's to_dict()
    # under its attribute name, and each extra tokenizer in a sub-folder of that name; SignBindProcessor.from_pretrained
    # reads exactly that.
    processor.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "processor_config.json").read_text())
    assert saved["video_processor"]["max_frames"] == processor.video_processor.max_frames
    assert saved["processor_class"] == "SignBindProcessor"
    assert (tmp_path / "letter_tokenizer").is_dir()
    assert (tmp_path / "phoneme_tokenizer").is_dir()
    reloaded = transformers.AutoProcessor.from_pretrained(tmp_path)
    assert type(reloaded) is SignBindProcessor
    assert reloaded.tokenizer.get_vocab() == processor.tokenizer.get_vocab()


def test_cached_file_returns_none_for_a_missing_optional_file(tmp_path):
    # transformers.utils.cached_file(..., _raise_exceptions_for_missing_entries=False) answers None for a file a
    # folder lacks (processing_signbind: processor_config.json and the optional face models).
    assert cached_file(tmp_path, "absent.json", _raise_exceptions_for_missing_entries=False) is None
    (tmp_path / "present.json").write_text("{}")
    assert cached_file(tmp_path, "present.json", _raise_exceptions_for_missing_entries=False) is not None


def test_pipeline_loads_only_the_processor_named_by_the_load_flags(tmp_path):
    # Pipeline's class attributes _load_processor / _load_tokenizer / _load_image_processor / ... tell
    # transformers.pipeline() which pre-processing objects to load (pipeline_signbind.SignBindTranslationPipeline).
    model = signbind_hf.SignBindModel(tiny_config(gloss_vocab_size=4)).eval()
    model.save_pretrained(tmp_path)
    SignBindProcessor.from_preset("tiny", glosses=["HAVE HERE"]).save_pretrained(tmp_path)
    translator = pipeline(TASK, model=str(tmp_path))
    assert isinstance(translator, SignBindTranslationPipeline)
    assert isinstance(translator.processor, SignBindProcessor)
    assert translator.image_processor is None
    assert translator.feature_extractor is None


def test_relative_import_files_lists_the_flat_modules_a_file_needs():
    # transformers.dynamic_module_utils.get_relative_import_files(file) follows `from .x import` lines recursively:
    # the remote code copied beside a model (pipeline_signbind.add_pipeline_code, hub/model_push.py).
    from transformers.dynamic_module_utils import get_relative_import_files

    needed = {path.rsplit("/", 1)[-1] for path in get_relative_import_files(signbind_hf.processing_signbind.__file__)}
    assert {"configuration_signbind.py", "tokenization_signbind.py", "video_processing_signbind.py"} <= needed
    assert "modeling_signbind.py" not in needed  # only what it imports


def test_sub_config_specs_build_the_backbone_and_lip_configs():
    # transformers.configuration_utils.SubConfigSpec (PreTrainedConfig.sub_configs_defaults) builds each nested
    # config from its defaults (configuration_signbind.SignBindConfig).
    config = tiny_config()
    assert isinstance(config.backbone_config, transformers.Dinov2Config)
    assert isinstance(config.lip_config, transformers.VideoMAEConfig)


def test_initialization_helpers_leave_loaded_weights_alone(tmp_path):
    # transformers.initialization.copy_ (like zeros_) skips a parameter that from_pretrained already loaded, so a
    # reloaded model keeps its trained lip-alignment offsets (modeling_signbind).
    model = signbind_hf.SignBindModel(tiny_config(lip_shift="learned"))
    trained = {name: parameter.detach().clone() + 0.5 for name, parameter in model.named_parameters()}
    model.load_state_dict(trained)
    model.save_pretrained(tmp_path)
    reloaded = AutoModel.from_pretrained(tmp_path)
    for name, parameter in reloaded.named_parameters():
        assert parameter.detach().equal(trained[name]), name


def test_a_tokenizer_subclass_round_trips_through_save_and_from_pretrained(tmp_path):
    # PreTrainedTokenizer.save_pretrained / from_pretrained keep our CTC tokenizer's vocabulary and stream.
    tokenizer = SignBindCTCTokenizer.for_glosses(["HAVE DIFFERENT HERE"])
    tokenizer.save_pretrained(tmp_path)
    reloaded = SignBindCTCTokenizer.from_pretrained(tmp_path)
    assert reloaded.get_vocab() == tokenizer.get_vocab()
    assert reloaded.stream == "gloss"


def test_processor_mixin_is_what_auto_processor_dispatches_to():
    assert issubclass(SignBindProcessor, ProcessorMixin)


def test_trainer_resume_loads_the_weights_through_load_from_checkpoint(tmp_path):
    # Trainer.train(resume_from_checkpoint=...) reads the checkpoint's weights by calling
    # self._load_from_checkpoint(path, model); training.stages.StageTrainer overrides it to load through
    # from_pretrained (transformers 5 renames the DINOv2/VideoMAE attention weights on load, a plain
    # load_state_dict would not).
    import torch
    from transformers import Trainer, TrainingArguments

    class Regression(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x, labels):
            return {"loss": ((self.weight * x - labels) ** 2).mean()}

    loaded = []

    class Recording(Trainer):
        def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
            loaded.append(resume_from_checkpoint)
            super()._load_from_checkpoint(resume_from_checkpoint, model)

    rows = [{"x": torch.tensor([1.0]), "labels": torch.tensor([2.0])}] * 4

    def run(max_steps: int, resume: str | None = None) -> None:
        arguments = TrainingArguments(
            output_dir=str(tmp_path), max_steps=max_steps, save_steps=1, per_device_train_batch_size=2,
            use_cpu=True, report_to=[], disable_tqdm=True, logging_strategy="no",
        )  # fmt: skip
        Recording(model=Regression(), args=arguments, train_dataset=rows).train(resume_from_checkpoint=resume)

    run(max_steps=1)
    checkpoint = str(tmp_path / "checkpoint-1")
    run(max_steps=2, resume=checkpoint)
    assert loaded == [checkpoint]
