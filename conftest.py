"""nbval settings for the workbook.

Readers see stderr (progress bars, warnings) in the notebooks, but it is timing-dependent, so
nbval does not compare it: only stdout, results and displays are checked against the stored
outputs. Cells whose *values* legitimately vary are marked ``# NBVAL_IGNORE_OUTPUT`` and check
themselves with ``assert``.
"""

import nbval.plugin as _nbval


def _without_stderr(outputs):
    return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


_compare = _nbval.IPyNbCell.compare_outputs


def _compare_outputs(self, test, ref, skip_compare=None):
    return _compare(self, _without_stderr(test), _without_stderr(ref), skip_compare)


_nbval.IPyNbCell.compare_outputs = _compare_outputs
