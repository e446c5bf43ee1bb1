"""signbind-hf: SignBind-LLM sign-language translation, the Hugging Face way.

Importing the package registers its classes with transformers' Auto classes (`AutoConfig` for model_type "signbind",
`AutoModel`, `AutoTokenizer`, `AutoProcessor`) and marks them for export as remote code, so that a saved model also
loads with `trust_remote_code=True` where signbind_hf is not installed. It also registers the
`sign-language-translation` pipeline task (`transformers.pipeline("sign-language-translation", model=DIR)`).
"""

from transformers import AutoConfig, AutoModel, AutoProcessor, AutoTokenizer
from transformers.pipelines import PIPELINE_REGISTRY

from .configuration_signbind import SignBindConfig
from .errors import SignBindInputError
from .modeling_signbind import SignBindModel, SignBindOutput, SignBindPreTrainedModel
from .pipeline_signbind import TASK as TRANSLATION_TASK
from .pipeline_signbind import SignBindTranslationPipeline
from .processing_signbind import SignBindProcessor
from .tokenization_signbind import SignBindCTCTokenizer
from .video_processing_signbind import SignBindVideoProcessor

__version__ = "0.1.0"

AutoConfig.register(SignBindConfig.model_type, SignBindConfig, exist_ok=True)
AutoModel.register(SignBindConfig, SignBindModel, exist_ok=True)
AutoTokenizer.register(SignBindConfig, tokenizer_class=SignBindCTCTokenizer, exist_ok=True)
AutoProcessor.register(SignBindConfig, SignBindProcessor, exist_ok=True)

# Every checkpoint carries its code (config.json gets an `auto_map`, the .py files are copied beside the weights).
SignBindConfig.register_for_auto_class()
SignBindModel.register_for_auto_class("AutoModel")
SignBindProcessor.register_for_auto_class("AutoProcessor")

PIPELINE_REGISTRY.register_pipeline(
    TRANSLATION_TASK, pipeline_class=SignBindTranslationPipeline, pt_model=AutoModel, type="multimodal"
)

__all__ = [
    "SignBindCTCTokenizer",
    "SignBindConfig",
    "SignBindInputError",
    "SignBindModel",
    "SignBindOutput",
    "SignBindPreTrainedModel",
    "SignBindProcessor",
    "SignBindTranslationPipeline",
    "SignBindVideoProcessor",
    "__version__",
]
