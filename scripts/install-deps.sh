#!/usr/bin/env bash
# Installs the Debian packages the build needs, only those that are missing.
# The CUDA toolkit (nvcc, cuBLAS, cuRAND, NCCL) is not a Debian package here:
# it comes with the machine, and the build uses it when nvcc is found. The
# Python module (python/) needs pybind11-dev, python3-dev and python3-numpy,
# its ONNX export python3-onnx, its tests python3-pytest.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config libeigen3-dev libyaml-cpp-dev zlib1g-dev
          nlohmann-json3-dev doctest-dev libopenmpi-dev openmpi-bin libdnnl-dev libhts-dev tabix
          pybind11-dev python3-dev python3-numpy python3-onnx python3-pytest "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
