"""PoolingStrategy, the enum `-pooling_strategy` parses into.

The original module of this name also freezes the TensorFlow graph; the Swift server needs no
graph, so only the enum is kept, with the same members, values and aliases, so that namespaces
from `get_args_parser()` compare equal to the original's and pickled/printed values look the same.
"""
from enum import Enum

__all__ = ['PoolingStrategy']


class PoolingStrategy(Enum):
    """Pooling strategies; CLS_TOKEN and SEP_TOKEN are aliases (same values) as in 1.10.0."""
    NONE = 0
    REDUCE_MAX = 1
    REDUCE_MEAN = 2
    REDUCE_MEAN_MAX = 3
    FIRST_TOKEN = 4  # [CLS] for single sequences
    LAST_TOKEN = 5  # [SEP] for single sequences
    CLS_TOKEN = 4  # alias of FIRST_TOKEN: not listed in `choices`, still accepted
    SEP_TOKEN = 5  # alias of LAST_TOKEN
    CLS_POOLED = 6  # pooled [CLS] output of a fine-tuned classifier

    def __str__(self):
        return self.name

    @staticmethod
    def from_string(s):
        # argparse reports a ValueError from `type` as "invalid from_string value: 'X'",
        # which is the original's message, so the function keeps this name.
        try:
            return PoolingStrategy[s]
        except KeyError:
            raise ValueError()
