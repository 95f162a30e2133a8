"""tinycc: TensorFlow Lite models to standalone C for microcontrollers."""
__version__ = "0.1.0"
