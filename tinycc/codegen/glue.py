"""Build glue of the output folder: CMake, a Makefile fragment, and the Zephyr and Arduino layouts.

Every layout is a rule table here; the templates (``templates/*.j2``) hold the file skeletons.

* ``CMakeLists.txt``: a static library target NAME, C99 on its own sources only.
* ``NAME.mk``: NAME_SRCS, NAME_OBJS (built by the fragment's own rule into NAME_BUILD with the
  application's CC/CPPFLAGS/CFLAGS and then NAME_STD = -std=c99, so the application's sources keep
  their own standard), NAME_CFLAGS (the include path only) and NAME_LDLIBS.
* ``--format zephyr``: ``zephyr/module.yml`` (build: cmake + kconfig), ``zephyr/Kconfig`` (the
  option CONFIG_TINYCC_<NAME> enabling the library; a float model selects REQUIRES_FULL_LIBC, since
  Zephyr's minimal libc has no libm) and ``zephyr/CMakeLists.txt``.
* ``--format arduino``: an Arduino library (library specification rev. 2.2): ``library.properties``,
  the sources in ``src/`` and ``examples/NAME/NAME.ino``, a sketch that runs the model.
"""
from __future__ import annotations

from .. import ir

#: Arduino cores (``architectures=`` of library.properties) whose boards have the build's core.
#: A generic build is portable C: any architecture.
ARDUINO_ARCHITECTURES = {
    "generic": ["*"],
    "cortex-m0": ["samd", "mbed_rp2040", "rp2040"],                       # SAMD21, RP2040 (M0+)
    "cortex-m3": ["sam", "stm32"],                                         # Due (SAM3X8E), STM32F1/F2/L1
    "cortex-m4": ["samd", "nrf52", "mbed_nano", "renesas_uno", "stm32", "teensy"],   # SAMD51, nRF52840, RA4M1
    "cortex-m7": ["mbed_portenta", "mbed_giga", "mbed_opta", "stm32", "teensy"],     # STM32H7, i.MX RT1062
    "cortex-m33": ["renesas_portenta", "rp2040", "stm32"],                 # RA6M5, RP2350, STM32U5/H5
    "cortex-m55": ["renesas_portenta", "rp2040", "stm32"],                 # no Arduino core has an M55 yet:
}                                                                          # the ARMv8-M mainline cores

#: Default library.properties fields (``tinycc build --maintainer/--url`` override them).
ARDUINO_URL = "https://pypi.org/project/tinycc/"


def default_maintainer() -> str:
    """Who builds the library: git's user.name <user.email> when set, else the login name."""
    import getpass
    import subprocess
    try:
        who = [subprocess.run(["git", "config", key], capture_output=True, text=True, timeout=10).stdout.strip()
               for key in ("user.name", "user.email")]
    except (OSError, subprocess.SubprocessError):
        who = ["", ""]
    if who[0]:
        return f"{who[0]} <{who[1]}>" if who[1] else who[0]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


#: format -> {file name template: jinja2 template}; NAME in a file name is the model's name.
LAYOUTS = {
    "plain": {"CMakeLists.txt": "CMakeLists.txt.j2", "NAME.mk": "model.mk.j2"},
    "zephyr": {"CMakeLists.txt": "CMakeLists.txt.j2", "NAME.mk": "model.mk.j2",
               "zephyr/module.yml": "zephyr_module.yml.j2", "zephyr/Kconfig": "zephyr_Kconfig.j2",
               "zephyr/CMakeLists.txt": "zephyr_CMakeLists.txt.j2"},
    "arduino": {"library.properties": "library.properties.j2", "examples/NAME/NAME.ino": "arduino_example.ino.j2"},
}
#: format -> folder the C sources go to
SOURCE_DIR = {"plain": "", "zephyr": "", "arduino": "src/"}


def _printable(t: dict) -> dict:
    """An input/output of the template context with its C element type and how to print it."""
    return dict(t, ctype=ir.C_TYPE[t["dtype"]], print_as="double" if t["dtype"] == "float32" else "long")


def float_model(g) -> bool:
    """Whether the model computes in float (its kernels call expf, logf, ...: it needs libm)."""
    return any(not ir.is_op(g, n) and not ir.tensor(g, n).is_const and ir.tensor(g, n).dtype == "float32"
               for n in g.nodes)


def lay_out(g, files: dict[str, str], opts, ctx: dict, env) -> dict[str, str]:
    """The output folder: the C files (moved to the layout's source folder) and the layout's glue."""
    # git is asked for the maintainer only by a layout that names one (two processes per build)
    maintainer = opts.maintainer or (default_maintainer() if "library.properties" in LAYOUTS[opts.format] else "")
    glue_ctx = dict(ctx, architectures=",".join(ARDUINO_ARCHITECTURES[opts.target]), float_model=float_model(g),
                    maintainer=maintainer, url=opts.url or ARDUINO_URL,
                    NAME_OPTION=f"TINYCC_{opts.name.upper()}",
                    inputs=[_printable(t) for t in ctx["inputs"]], outputs=[_printable(t) for t in ctx["outputs"]])
    out = {SOURCE_DIR[opts.format] + k: v for k, v in files.items()}
    for fname, template in LAYOUTS[opts.format].items():
        out[fname.replace("NAME", opts.name)] = env.get_template(template).render(glue_ctx)
    return out
