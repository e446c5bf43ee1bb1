"""`signbind_hf.metrics.word_error_rate` as an offline `evaluate` module.

Load it with `evaluate.load(signbind_hf.metrics.module_path("word_error_rate"))`.
evaluate copies this file into its module cache and imports it from there: hence the absolute import of the
package, and one `import` per line (evaluate finds a script's dependencies by reading its import lines).
"""

import evaluate

import signbind_hf.metrics.evaluate_modules

NAME = "word_error_rate"


class SignbindWordErrorRate(evaluate.Metric):
    def _info(self):
        return signbind_hf.metrics.evaluate_modules.metric_info(NAME)

    def _compute(self, predictions, references):
        return signbind_hf.metrics.evaluate_modules.compute(NAME, predictions, references)
