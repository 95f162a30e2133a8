"""C code generation (see ``emit``)."""
from .emit import generate

__all__ = ["generate"]
