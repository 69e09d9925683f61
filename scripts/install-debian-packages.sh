#!/usr/bin/env bash
# Installs every Debian 12 package that ITKSpatialTranscriptomics needs to build, test and run.
# Idempotent: when all packages are already present it changes nothing and needs no network.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config git
  # libraries the module links
  libinsighttoolkit5-dev libtorch-dev libopenslide-dev libvtk9-dev libhdf5-dev
  nlohmann-json3-dev libcli11-dev zlib1g-dev
  # LibTorch falls back to the slow reference BLAS without an optimised one
  libopenblas0-pthread
  # tests, benchmarks, style
  libgtest-dev libgmock-dev libbenchmark-dev clang-format-14
  # reference scripts and independent test fixtures (h5py writes AnnData/HEST files, torchvision is
  # the regressor's reference ResNet; never a runtime dependency), pyramidal TIFFs for the slide
  # benchmark (vips), /usr/bin/time for the adaptation-cost benchmark, off-screen figures
  python3 python3-numpy python3-torch python3-torchvision python3-h5py libtiff-tools libvips-tools time xvfb xauth
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-debian-packages: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-debian-packages: missing ${missing[*]}; run this script as root (or with sudo)" >&2
  exit 1
fi

echo "install-debian-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
