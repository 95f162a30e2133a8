#!/usr/bin/env bash
# scripts/install.sh - install what tinycc needs on Debian 12, and only what is
# missing (safe to run any number of times).
#
#   * Debian packages: gcc, make (host builds), gcc-arm-none-eabi and
#     libnewlib-arm-none-eabi (Cortex-M builds), qemu-system-arm (runs them).
#     `apt-get update` runs once, and only if a package is missing.
#   * tinycc itself, editable, with its test extras (the [verify] extra's reference
#     interpreters, pytest, pytest-xdist, hypothesis, wheel, kconfiglib):
#     python3 -m pip install -e ".[test]"
#     (skipped when tinycc, tflite_micro, ai_edge_litert, pytest, xdist, hypothesis,
#     wheel and kconfiglib import and pip lists tinycc as an editable install of this checkout).
#
# Needs root or sudo for apt-get. Uses the `python3` on PATH (set PYTHON to
# use another interpreter).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------
DEB_PACKAGES=(gcc make gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)

deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

have_pip() {
    "$PYTHON" -m pip --version >/dev/null 2>&1
}

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "${DEB_PACKAGES[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    # Debian's own python3 ships pip separately.
    if ! have_pip; then
        missing+=(python3-pip)
    fi
else
    # Not Debian: only check that the tools are there.
    for tool in gcc make arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
        command -v "$tool" >/dev/null 2>&1 \
            || die "$tool not found and this is not a Debian system; install it by hand"
    done
fi

if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    SUDO=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "not root and sudo is missing; run as root"
        SUDO=(sudo)
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        || die "apt-get update failed"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
    say "Debian packages installed"
else
    say "Debian packages present: ${DEB_PACKAGES[*]}"
fi

for tool in gcc make arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is still not on PATH"
done

# ---------------------------------------------------------------------------
# Python package (editable) with the test extras
# ---------------------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (Python >= 3.11 is required)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$("$PYTHON" -V 2>&1) is too old: tinycc needs Python >= 3.11"
have_pip || die "$PYTHON -m pip does not work (install python3-pip)"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

# The folder pip records for an editable install of tinycc ("" if none).
editable_location() {
    { (cd / && "$PYTHON" -m pip show tinycc 2>/dev/null) || true; } \
        | sed -n 's/^Editable project location: *//p'
}

imports_ok() {
    (cd "$REPO" && "$PYTHON" -c 'import tinycc, tflite_micro, ai_edge_litert, pytest, xdist, hypothesis, wheel, kconfiglib' >/dev/null 2>&1)
}

location="$(editable_location)"
if imports_ok && [[ -n "$location" && "$(cd "$location" 2>/dev/null && pwd -P)" == "$(cd "$REPO" && pwd -P)" ]]; then
    say "Python package present: tinycc (editable, $REPO) with test extras"
else
    if [[ -n "$location" ]]; then
        say "tinycc is installed editable from $location; reinstalling from $REPO"
    fi
    say "installing tinycc and its test extras: $PYTHON -m pip install -e \".[test]\""
    pip_args=(-q install -e ".[test]")
    # Debian's python3 is "externally managed" (PEP 668): outside a virtual
    # environment pip refuses to install unless told to.
    if "$PYTHON" - <<'EOF'
import os, sys, sysconfig
in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
sys.exit(0 if (not in_venv and os.path.exists(marker)) else 1)
EOF
    then
        say "$PYTHON is externally managed (PEP 668): passing --break-system-packages"
        pip_args+=(--break-system-packages)
    fi
    (cd "$REPO" && "$PYTHON" -m pip "${pip_args[@]}") || die "pip install -e \".[test]\" failed"
    imports_ok || die "tinycc is installed but 'import tinycc, tflite_micro, ai_edge_litert, pytest, xdist, hypothesis, wheel, kconfiglib' fails"
    say "Python package installed: tinycc (editable) with test extras"
fi
