"""The metrics as Hugging Face ``evaluate`` modules that load from this package, with no Hub.

``evaluate.load("sacrebleu")`` fetches its script from the Hub; these load from a path inside the installed package:

>>> import evaluate
>>> from signbind_hf.metrics import module_path
>>> bleu = evaluate.load(module_path("bleu"))
>>> bleu.compute(predictions=["hello there"], references=["hello there friend"])["bleu1"]  # doctest: +ELLIPSIS
60.65...

Each ``signbind_<name>.py`` beside this file is a thin ``evaluate.Metric`` subclass: its ``MetricInfo`` and its
``compute`` come from ``metric_info`` and ``compute`` here, which call the plain functions of ``signbind_hf.metrics``,
so a metric has one definition whichever way it is called. ``evaluate`` copies a module's script into its own cache
and imports it from there, so the scripts import ``signbind_hf`` absolutely, never relatively.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..recognition import homonym_accuracy, letter_accuracy, phoneme_error_rate, word_error_rate
from ..translation import bleu, rouge_l

if TYPE_CHECKING:
    import evaluate

_FOLDER = Path(__file__).resolve().parent

_SACREBLEU_CITATION = """\
@inproceedings{papineni-etal-2002-bleu,
    title = "{B}leu: a Method for Automatic Evaluation of Machine Translation",
    author = "Papineni, Kishore and Roukos, Salim and Ward, Todd and Zhu, Wei-Jing",
    booktitle = "Proceedings of the 40th Annual Meeting of the Association for Computational Linguistics",
    year = "2002",
    url = "https://aclanthology.org/P02-1040",
    pages = "311--318",
}
@inproceedings{post-2018-call,
    title = "A Call for Clarity in Reporting {BLEU} Scores",
    author = "Post, Matt",
    booktitle = "Proceedings of the Third Conference on Machine Translation: Research Papers",
    year = "2018",
    url = "https://aclanthology.org/W18-6319",
    pages = "186--191",
}"""

_ROUGE_CITATION = """\
@inproceedings{lin-2004-rouge,
    title = "{ROUGE}: A Package for Automatic Evaluation of Summaries",
    author = "Lin, Chin-Yew",
    booktitle = "Text Summarization Branches Out",
    year = "2004",
    url = "https://aclanthology.org/W04-1013",
    pages = "74--81",
}"""

_FINGERSPELLING_CITATION = """\
@inproceedings{shi2018american,
    title = "American Sign Language Fingerspelling Recognition in the Wild",
    author = "Shi, Bowen and Martinez Del Rio, Aurora and Keane, Jonathan and Michaux, Jonathan and Brentari, Diane
              and Shakhnarovich, Greg and Livescu, Karen",
    booktitle = "IEEE Spoken Language Technology Workshop (SLT)",
    year = "2018",
}"""

_ERROR_RATE_CITATION = """\
@inproceedings{morris2004,
    title = "From {WER} and {RIL} to {MER} and {WIL}: improved evaluation measures for connected speech recognition",
    author = "Morris, Andrew Cameron and Maier, Viktoria and Green, Phil",
    booktitle = "Interspeech",
    year = "2004",
}"""

_SIGNBIND_CITATION = """\
@article{thomas-signbind-llm,
    title = "SignBind-LLM: Multi-Stage Modality Fusion for Sign Language Translation",
    author = "Thomas, Marshall and Fish, Edward and Bowden, Richard",
}"""

_INPUTS = """\
Args:
    predictions (`list[str]`): one output per clip ("" for an empty one; None is an error).
    references (`list[str]`): one reference per clip, in the same order.
"""


@dataclass(frozen=True)
class _ModuleSpec:
    function: Callable
    citation: str
    reference_urls: tuple[str, ...] = ()
    result_key: str | None = None  # the function returns a number, reported under this key; None: it returns a dict
    extra_inputs: str = ""  # inputs_description lines for keyword arguments beyond predictions and references


_SPECS = {
    "bleu": _ModuleSpec(bleu, _SACREBLEU_CITATION, ("https://github.com/mjpost/sacrebleu",)),
    "rouge_l": _ModuleSpec(
        rouge_l, _ROUGE_CITATION, ("https://github.com/google-research/google-research/tree/master/rouge",), "rouge_l"
    ),
    "letter_accuracy": _ModuleSpec(letter_accuracy, _FINGERSPELLING_CITATION, (), "letter_accuracy"),
    "phoneme_error_rate": _ModuleSpec(
        phoneme_error_rate, _ERROR_RATE_CITATION, ("https://github.com/jitsi/jiwer",), "phoneme_error_rate"
    ),
    "word_error_rate": _ModuleSpec(
        word_error_rate, _ERROR_RATE_CITATION, ("https://github.com/jitsi/jiwer",), "word_error_rate"
    ),
    "homonym_accuracy": _ModuleSpec(
        homonym_accuracy,
        _SIGNBIND_CITATION,
        (),
        "homonym_accuracy",
        "    homonyms (`set[str]`): the gloss words that are manual homonyms, e.g. {'WATER', 'MILK'}.\n",
    ),
}

MODULE_NAMES = tuple(_SPECS)


def _spec(name: str) -> _ModuleSpec:
    if name not in _SPECS:
        raise ValueError(f"unknown metric {name!r}: the evaluate modules are {', '.join(MODULE_NAMES)}")
    return _SPECS[name]


def module_path(name: str) -> str:
    """The path to pass to ``evaluate.load`` for metric ``name`` (one of ``MODULE_NAMES``)."""
    _spec(name)
    return str(_FOLDER / f"signbind_{name}.py")


def metric_info(name: str) -> "evaluate.MetricInfo":
    """The ``evaluate.MetricInfo`` of metric ``name``: its description is the plain function's docstring."""
    import datasets
    import evaluate

    spec = _spec(name)
    return evaluate.MetricInfo(
        description=spec.function.__doc__,
        citation=spec.citation,
        inputs_description=_INPUTS + spec.extra_inputs,
        features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        reference_urls=list(spec.reference_urls),
    )


def compute(name: str, predictions: list[str], references: list[str], **kwargs) -> dict:
    """Run metric ``name``'s plain function; return its scores as a dict, as ``evaluate`` modules do."""
    spec = _spec(name)
    result = spec.function(predictions, references, **kwargs)
    return result.to_dict() if spec.result_key is None else {spec.result_key: result}
