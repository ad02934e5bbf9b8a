"""Where the tool's files are: the checkout, its config directory and its build directory.

Below every other tasks/ module, so Config.build_dir and the zip builder read one BUILD_DIR (tests point
`tasks.paths.BUILD_DIR` elsewhere; it is read at call time).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
ENV_DIR = CONFIG_DIR / "envs"
BUILD_DIR = ROOT / "build"
CONFIG_DIR_VAR = "OTLP2PIPELINE_CONFIG_DIR"
