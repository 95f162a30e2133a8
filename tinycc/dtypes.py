"""Element types: their sizes, C and numpy types, TFLite type codes (a leaf module)."""
from __future__ import annotations

# Bytes per element of the dtypes tinycc knows (float16 only in the file: the frontend widens it).
DTYPE_SIZE = {"int8": 1, "uint8": 1, "int16": 2, "int32": 4, "int64": 8, "float32": 4, "bool": 1, "float16": 2}
C_TYPE = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int32_t",
          "int64": "int64_t", "float32": "float", "bool": "uint8_t"}
# numpy dtype of a file buffer (little-endian)
NUMPY_DTYPES = {"float32": "<f4", "int32": "<i4", "uint8": "u1", "int64": "<i8", "bool": "u1",
                "int16": "<i2", "int8": "i1", "float16": "<f2"}
# TFLite TensorType -> tinycc dtype name.
TENSOR_TYPES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8"}
TENSOR_TYPE_NAMES = {0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 5: "STRING", 6: "BOOL",
                     7: "INT16", 8: "COMPLEX64", 9: "INT8", 10: "FLOAT64", 11: "COMPLEX128", 12: "UINT64",
                     13: "RESOURCE", 14: "VARIANT", 15: "UINT32", 16: "UINT16", 17: "INT4", 18: "BFLOAT16"}
# FLOAT16 is read only for constants (TensorFlow's float16 weight quantization); the frontend
# widens them to float32 exactly, so the IR never holds a float16 tensor.
FILE_ONLY_TYPES = {1: "float16", 17: "int4"}
# INT4 is read only for constants too (TFLite's 4-bit weights: two per byte, element 2i in the low
# nibble): the frontend widens them to int8 values in [-8, 7] and records their ids in
# ``graph["int4"]``; compress_weights keeps them 4-bit in flash.
DTYPE_SIZE["int4"] = 1       # the size of the int8 it becomes (the file holds half: ``file_bytes``)
NUMPY_DTYPES["int4"] = "u1"


def file_bytes(dtype: str, count: int) -> int:
    """Bytes ``count`` elements of ``dtype`` take in a .tflite buffer."""
    return (count + 1) // 2 if dtype == "int4" else count * DTYPE_SIZE[dtype]
# The C API's TfLiteType numbers (kTfLiteFloat32 = 1, ...; not the schema's TensorType): NAME_INPUTi_TYPE.
TFLITE_C_TYPES = {"float32": 1, "int32": 2, "uint8": 3, "int64": 4, "bool": 6, "int16": 7, "int8": 9}
ZERO_POINT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767),
                    "int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1), "bool": (0, 1)}
# RESOURCE: a resource-variable handle (VAR_HANDLE's output). The frontend resolves every handle at
# compile time into a state tensor (tinycc/ops/variables.py), so no handle reaches the generated code.
TENSOR_TYPES[13] = "resource"
DTYPE_SIZE["resource"] = 4
NUMPY_DTYPES["resource"] = "<i4"
# UINT32 and UINT64: the TFLite Micro signal library's energies and filter-bank sums
# (tinycc/ops/signal.py); no other op takes them.
for _name, _code, _size, _c, _np, _tfl in (("uint32", 15, 4, "uint32_t", "<u4", 16),
                                          ("uint64", 12, 8, "uint64_t", "<u8", 13)):
    TENSOR_TYPES[_code], DTYPE_SIZE[_name], C_TYPE[_name] = _name, _size, _c
    NUMPY_DTYPES[_name], TFLITE_C_TYPES[_name] = _np, _tfl
ZERO_POINT_RANGE["int4"] = (-8, 7)
