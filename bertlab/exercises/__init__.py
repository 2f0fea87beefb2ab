"""Checkers for the notebooks' exercises: ``from bertlab.exercises import check_softmax``.

Each notebook's checkers live in the module named for its topic; :mod:`.core` holds what they
share. A checker prints ``✔ ...``, ``✘ ...`` with a hint, or "not implemented yet" for a stub,
and returns True/False; it never raises, whatever the learner's function does.
"""

from .attention import *  # noqa: F401,F403
from .core import check_choice, not_implemented  # noqa: F401
from .efficiency import *  # noqa: F401,F403
from .encoder import *  # noqa: F401,F403
from .experiments import *  # noqa: F401,F403
from .finetuning import *  # noqa: F401,F403
from .interpretability import *  # noqa: F401,F403
from .long_documents import *  # noqa: F401,F403
from .multilingual import *  # noqa: F401,F403
from .objectives import *  # noqa: F401,F403
from .pretraining import *  # noqa: F401,F403
from .welcome import *  # noqa: F401,F403
