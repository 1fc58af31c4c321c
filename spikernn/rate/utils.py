"""The seed project's module path ``rate.utils``: ``set_gpu``, ``str2bool``,
``restricted_float``."""

from .compat import restricted_float, str2bool
from .model import set_gpu

__all__ = ["restricted_float", "set_gpu", "str2bool"]
