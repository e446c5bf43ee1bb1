"""The `signbind` command-line tool.

Why a separate top-level package and not `signbind_hf.cli`: `import signbind_hf` registers SignBind with transformers'
AutoConfig/AutoModel, which imports torch and transformers (about 4 s). A sub-package would import its parent first, so
`signbind --help` would pay those seconds too. Here every module imports only the standard library at import time: each
sub-command module exposes `add_parser(subparsers)` (argparse only) and a thin `main(args)` that imports `signbind_hf`
and torch inside, once the user has asked for real work.
"""
