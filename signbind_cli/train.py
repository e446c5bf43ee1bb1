"""`signbind train`: train one stage of SignBind-LLM with transformers' Trainer (experts, fusion) or TRL (llm).

Stages: `experts` (router, sign, fingerspelling and lipreading experts on their own targets), `fusion` (the fusion
module on the frozen experts of --init, trained on their cached outputs), `llm` (the pseudo-gloss -> English refiner).
Settings come from --config YAML, then the command line: every field of StageArguments and of transformers'
TrainingArguments is an option (`--learning_rate 1e-3`, `--num_train_epochs 5`, `--dataloader_num_workers 2`,
`--model_overrides '{"fusion_type": "concat"}'`); `--help-fields` lists them all. The run folder --out receives the
model and processor (AutoModel/AutoProcessor load it), trainer_state.json, training_log.jsonl/.csv,
training_curves.png and skipped_rows.json; Trainer checkpoints go to OUT/checkpoints (--resume continues the last
readable one, naming any damaged one it passes over). --init reads safetensors weights only.

Examples:
    signbind synth --out data/synthsign
    signbind train --stage experts --config configs/experts_cpu.yaml --data data/synthsign --out runs/experts
    signbind train --stage fusion --config configs/fusion_cpu.yaml --data data/synthsign --init runs/experts \\
        --out runs/fusion
    signbind train --stage experts --data data/new_language --init runs/fusion --out runs/finetune_experts
    signbind train --stage experts --config configs/experts_cpu.yaml --data data/synthsign --out runs/experts --resume
    accelerate launch --multi_gpu --num_processes 2 -m signbind_cli.main train --stage experts \\
        --config configs/experts_cpu.yaml --data data/synthsign --out runs/experts_ddp
    accelerate launch --config_file configs/accelerate/fsdp.yaml -m signbind_cli.main train --stage experts ...

Under accelerate, `--multi_gpu` starts one process per device; with no GPU visible (CUDA_VISIBLE_DEVICES="") the
processes train on the CPU over gloo. (`accelerate launch --cpu` starts a single process: its multi-CPU launcher is
MPI's.) Each process checks the data set after the main one has filled the clip cache; the main process writes --out.
"""

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

STAGES = ("experts", "fusion", "llm")


class _PassThroughParser(argparse.ArgumentParser):
    """Keeps the options it does not declare (Trainer's and the stage's fields) for the dataclass parser that knows
    them, instead of failing on them: the handler hands them to TrlParser, which also reads --config."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        namespace.extra_arguments = [*getattr(namespace, "extra_arguments", []), *extras]
        return namespace, []


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "train",
        help="train a stage: experts, fusion (on cached expert outputs) or the llm refiner",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # `--data_seed` must reach Trainer, not be read as an abbreviation of a flag here
    )
    parser.__class__ = _PassThroughParser
    parser.add_argument("--stage", choices=STAGES, required=True, help="the stage to train")
    parser.add_argument("--data", type=Path, help="prepared data set folder (signbind synth / signbind prepare)")
    parser.add_argument("--out", type=Path, help="run folder (model, processor, logs; checkpoints/ inside)")
    parser.add_argument("--init", type=Path, help="trained model folder to start from (required for fusion)")
    parser.add_argument("--config", type=Path, help="YAML of settings (configs/*.yaml); the command line wins")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the last readable checkpoint in OUT/checkpoints"
    )
    parser.add_argument(
        "--help-fields", action="store_true", help="list every option of the stage (its dataclasses) and exit"
    )
    parser.set_defaults(handler=main)
    return parser


# The refiner's dataclass (signbind_hf.training.refiner.RefinerArguments) names the folders data_dir and out_dir.
LLM_FIELD_NAMES = {"data": "data_dir", "out": "out_dir"}


def _forwarded_argv(args: argparse.Namespace, with_stage: bool) -> list[str]:
    """The options for the stage's dataclass parser: the ones declared here, then every other one as given."""
    argv = ["--stage", args.stage] if with_stage else []
    names = LLM_FIELD_NAMES if args.stage == "llm" else {}
    for name in ("data", "out", "init", "config"):
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{names.get(name, name)}", str(value)]
    if args.resume:
        argv.append("--resume")
    return argv + list(args.extra_arguments)


def main(args: argparse.Namespace) -> int:
    if args.stage == "llm":
        return _train_llm(args)
    return _train_visual(args)


def _train_visual(args: argparse.Namespace) -> int:
    from signbind_hf.training.arguments import parse_stage_arguments
    from signbind_hf.training.stages import train_stage

    argv = _forwarded_argv(args, with_stage=True)
    if args.help_fields:
        argv.append("--help")
    for name in ("data", "out"):
        if getattr(args, name) is None and not args.help_fields:
            from signbind_hf.errors import SignBindInputError

            raise SignBindInputError(f"signbind train --stage {args.stage}: --{name} DIR is required")
    stage_args, training_args = parse_stage_arguments(argv)
    out = train_stage(stage_args, training_args)
    print(out)
    return 0


def _train_llm(args: argparse.Namespace) -> int:
    if args.init is not None or args.resume:
        logger.error("--stage llm takes --base-model (the causal LM to adapt), not --init or --resume")
        return 2
    try:
        from signbind_hf.training.refiner import RefinerArguments, train_refiner
    except ImportError as error:
        logger.error("--stage llm is not available yet in this version (signbind_hf.training.refiner: %s)", error)
        return 2
    from trl import TrlParser

    argv = _forwarded_argv(args, with_stage=False)
    if args.help_fields:
        argv.append("--help")
    (refiner_args,) = TrlParser((RefinerArguments,), prog="signbind train --stage llm").parse_args_and_config(argv)
    out = train_refiner(refiner_args)
    print(out)
    return 0
