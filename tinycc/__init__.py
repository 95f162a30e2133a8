"""tinycc: TensorFlow Lite models to standalone C for microcontrollers.

``tinycc.build(model, out_dir, ...)`` and ``tinycc.run(model, inputs, ...)`` (see ``tinycc.api``) are
imported on first use, so ``import tinycc`` stays light.
"""
__version__ = "0.1.0"

__all__ = ["build", "run", "BuildResult", "TinyccError", "__version__"]


def __getattr__(name):
    if name in ("build", "run", "BuildResult"):
        from . import api
        return getattr(api, name)
    if name == "TinyccError":
        from .errors import TinyccError
        return TinyccError
    raise AttributeError(f"module 'tinycc' has no attribute {name!r}")
