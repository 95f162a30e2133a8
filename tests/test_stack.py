"""NAME_STACK_BYTES is a bound: it covers every function on the deepest path, naked asm included,
and one inference painted in QEMU never uses more (every shared model, Cortex-M0, M4 and M55)."""
from __future__ import annotations

import re

import pytest

from tinycc import driver, toolchain

from .conftest import SHARED_MODELS, model_path, needs_qemu

ASM = r"""
void helper(void);
void helper(void) { volatile int x[4]; x[0] = 1; x[3] = x[0]; }
__attribute__((naked, noinline)) void asm_fn(void)
{
    __asm__ volatile(
        "push {r4, r5, r6, lr}\n"
        "sub sp, #24\n"
        "vpush {d8-d9}\n"
        "bl helper\n"
        "vpop {d8-d9}\n"
        "add sp, #24\n"
        "push {r0, r1}\n"
        "pop {r0, r1}\n"
        "pop {r4, r5, r6, pc}\n");
}
int top(void);
int top(void) { asm_fn(); return 1; }
"""


def test_naked_asm_frame_and_its_calls_count(tmp_path):
    """A naked function's frame is read from its object code: push 16 + sub 24 + vpush 16 = 56 B
    at the deepest point (the later push of 8 comes after 40 B were given back), and its BL is an
    edge of the call graph, so the path runs top -> asm_fn -> helper."""
    needs_qemu()
    src = tmp_path / "a.c"
    src.write_text(ASM)
    st = toolchain.stack_usage([src], "top", target="cortex-m4", include_dirs=[tmp_path])
    assert st["path"] == ["top", "asm_fn", "helper"]
    assert st["frames"][1] == 56
    assert st["bytes"] == sum(st["frames"]) and st["bytes"] >= 56 + 8


def test_sp_from_a_register_is_refused(tmp_path):
    """A naked function that sets SP from a register has a frame no tool can read: an error."""
    needs_qemu()
    src = tmp_path / "b.c"
    src.write_text('__attribute__((naked)) void f(void) { __asm__ volatile("mov sp, r0\\n bx lr\\n"); }\n')
    with pytest.raises(toolchain.ToolchainError, match="sets SP from a register"):
        toolchain.stack_usage([src], "f", include_dirs=[tmp_path])


# every shared model on the three cores the issue names: the Cortex-M0 (plain kernels, soft float:
# newlib's float helpers), the M4 (the default build runs the asm kernels) and the M55 (hard float,
# the fast int8 kernels on another core and board).
PAINTED = [(name, target) for target in ("cortex-m0", "cortex-m4", "cortex-m55") for name in SHARED_MODELS]


@pytest.mark.slow
@pytest.mark.parametrize("name,target", PAINTED)
def test_painted_stack_within_declared_bound(name, target, tmp_path):
    """Build with the target's default options, run one inference on a painted stack in QEMU,
    and check the bytes it wrote against the header's NAME_STACK_BYTES."""
    needs_qemu()
    out = tmp_path / "out"
    driver.build(str(model_path(name)), str(out), "model", target, stack=True)
    declared = int(re.search(r"#define model_STACK_BYTES (\d+)", (out / "model.h").read_text()).group(1))
    used = toolchain.painted_stack(out, tmp_path, "model", target)
    print(f"{name} {target}: painted {used} B, declared {declared} B")
    assert 0 < used <= declared


def test_library_functions_are_walked(tmp_path):
    """C library functions count with their real frames, read from newlib/libgcc linked with the
    code: on the Cortex-M0, expf (soft float) and what it calls take more than 64 B."""
    needs_qemu()
    src = tmp_path / "c.c"
    src.write_text("#include <math.h>\nfloat f(float x);\nfloat f(float x) { return expf(x) * 2.0f; }\n")
    st = toolchain.stack_usage([src], "f", target="cortex-m0", include_dirs=[tmp_path])
    assert st["path"][:2] == ["f", "expf"] and {"expf", "__aeabi_fmul"} <= set(st["library_calls"])
    assert sum(st["frames"][1:]) > 64 and st["bytes"] == sum(st["frames"])


def test_indirect_call_reaches_every_function_whose_address_is_taken(tmp_path):
    """A call through a pointer that arrives as a parameter (here from a table in .rodata) may
    reach any function whose address the code takes: the deeper of the two counts."""
    needs_qemu()
    src = tmp_path / "d.c"
    src.write_text(
        "static int small(int x) { return x + 1; }\n"
        "static int deep(int x) { volatile int b[40]; b[x & 7] = x; return b[3]; }\n"
        "typedef int (*fn)(int);\n"
        "static const fn table[2] = {small, deep};\n"
        "__attribute__((noinline)) int apply(fn f, int x);\n"
        "__attribute__((noinline)) int apply(fn f, int x) { return f(x) * 3; }\n"
        "int top(int x);\n"
        "int top(int x) { return apply(table[x & 1], x); }\n")
    st = toolchain.stack_usage([src], "top", target="cortex-m4", include_dirs=[tmp_path])
    assert st["path"] == ["top", "apply", "deep"] and st["frames"][2] >= 160
