"""`signbind_hf.metrics.bleu` as an offline `evaluate` module.

Load it with `evaluate.load(signbind_hf.metrics.module_path("bleu"))`.
evaluate copies this file into its module cache and imports it from there: hence the absolute import of the
package, and one `import` per line (evaluate finds a script's dependencies by reading its import lines).
"""

import evaluate

import signbind_hf.metrics.evaluate_modules

NAME = "bleu"


class SignbindBleu(evaluate.Metric):
    def _info(self):
        return signbind_hf.metrics.evaluate_modules.metric_info(NAME)

    def _compute(self, predictions, references):
        return signbind_hf.metrics.evaluate_modules.compute(NAME, predictions, references)
