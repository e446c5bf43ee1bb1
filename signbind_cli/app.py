"""`signbind app`: serve the SignBind-LLM demo (the Gradio Space in spaces/signbind/) on this machine.

Upload or record a sign-language video in the browser and read the English translation, pseudo-gloss, fingerspelled
words, phonemes, the router timeline, the lip gate and the face crops the lipreading expert saw. The demo is the
Space's own app.py, so what runs here is what runs on the Hub; it needs a source checkout (spaces/ is not part of
the installed package) and the `app` extra (gradio).

The app serves the models given with --model (several: repeat it) and nothing else, deletes uploaded videos once
translated, and sends no usage telemetry (Gradio's is off unless GRADIO_ANALYTICS_ENABLED=True).

Example:
    signbind app --model runs/quickstart/model --port 7860
    signbind app --model runs/quickstart/model --model org/signbind-model   # two models to pick from
"""

import argparse
import importlib.util
import logging
from pathlib import Path
from types import ModuleType

from signbind_cli.argument_types import int_at_least

logger = logging.getLogger(__name__)

SPACE_APP = Path(__file__).resolve().parents[1] / "spaces" / "signbind" / "app.py"
DEFAULT_PORT = 7860  # Gradio's own default, and the port a Space serves on
TRUE_WORDS = ("true", "yes", "1", "on")
FALSE_WORDS = ("false", "no", "0", "off")


def boolean(text: str) -> bool:
    """``--share false`` style flags: true/false, yes/no, 1/0, on/off."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"expected one of {', '.join(TRUE_WORDS + FALSE_WORDS)}; got {text!r}")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "app",
        help="serve the demo web app (the Gradio Space) locally",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help="a model folder or Hub repo id the app serves; repeat for several, the first is pre-selected; nothing "
        "else can be picked (default: $SIGNBIND_MODEL, comma-separated, else runs/quickstart/model when it exists)",
    )
    parser.add_argument(
        "--port",
        type=int_at_least(0),
        default=DEFAULT_PORT,
        help=f"port to serve on; 0: the first free one from {DEFAULT_PORT} (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on; 0.0.0.0 serves other machines too (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--share",
        type=boolean,
        default=False,
        metavar="{true,false}",
        help="also open a public gradio.live link (needs the internet; default: false)",
    )
    parser.set_defaults(handler=main)
    return parser


def load_space_app(path: Path = SPACE_APP) -> ModuleType:
    """The Space's app.py as a module (loaded by path: spaces/ is a folder of the checkout, not a package)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: the demo app is not here; `signbind app` runs the Space from a source checkout of signbind-hf "
            "(git clone, then `make venv`)"
        )
    spec = importlib.util.spec_from_file_location("signbind_space_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(args: argparse.Namespace) -> int:
    try:
        space = load_space_app()
    except FileNotFoundError as error:
        logger.error("%s", error)
        return 2
    except ImportError as error:
        logger.error("the demo needs the app extra (%s): pip install 'signbind-hf[app,video]'", error)
        return 2
    for model in args.model or []:  # each named in its own message before anything loads
        try:
            space.check_model_reference(model)
        except space.ModelReferenceError as error:
            logger.error("--model %s", error)
            return 2
    port = None if args.port == 0 else args.port  # None: Gradio finds a free port
    try:
        demo = space.build_demo(models=args.model)
    except ValueError as error:  # no model to serve, a damaged one, or a bad setting (SIGNBIND_MAX_SECONDS)
        logger.error("%s", error)
        return 2
    logger.info("serving the demo on http://%s:%s (Ctrl+C stops it)", args.host, args.port or "<free port>")
    try:
        space.launch(demo, host=args.host, port=port, share=args.share)
    except OSError as error:  # the port is taken, or the host is not an interface of this machine
        logger.error("cannot serve on %s:%s: %s", args.host, args.port, error)
        return 2
    return 0
