# -*- Python -*- lit configuration for glmc's FileCheck tests.
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "glmc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.glmc_obj_root, "test", "lit")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
config.substitutions.append(("%glmc_src", config.glmc_src_root))
config.substitutions.append(("%glmc_obj", config.glmc_obj_root))

tool_dirs = [config.glmc_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["glm-opt", "glmc", "glmrt-run"], tool_dirs)
llvm_config.add_tool_substitutions(["FileCheck", "not", "count", "split-file"], [config.llvm_tools_dir])

# Features that tests may REQUIRE; a missing one shows as UNSUPPORTED.
if shutil.which("qemu-aarch64-static"):
    config.available_features.add("qemu-aarch64")
if os.path.isdir("/usr/aarch64-linux-gnu/lib"):
    config.available_features.add("aarch64-sysroot")
if shutil.which("ptxas", path="/usr/local/cuda/bin:" + os.environ.get("PATH", "")):
    config.available_features.add("ptxas")
cpuinfo = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
for flag in ["avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni"]:
    if " " + flag in cpuinfo:
        config.available_features.add("cpu-" + flag.replace("_", ""))
