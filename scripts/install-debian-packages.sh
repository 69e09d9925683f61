#!/usr/bin/env bash
# Installs every Debian 12 package that ITKSpatialTranscriptomics needs to build, test and run.
# Idempotent: when all packages are already present it changes nothing and needs no network.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config git
  # libraries the module links
  libinsighttoolkit5-dev libtorch-dev libopenslide-dev libvtk9-dev libhdf5-dev
  nlohmann-json3-dev libcli11-dev zlib1g-dev libblas-dev
  # LibTorch's c10d process groups: ProcessGroupGloo.hpp includes Gloo's headers, which libtorch-dev
  # does not pull in (data-parallel pretraining, src/distributed)
  libgloo-dev
  # LibTorch falls back to the slow reference BLAS without an optimised one; the OpenMP build is the
  # one selected below (the pthread build stays installed: other Debian packages may depend on it)
  libopenblas0-pthread libopenblas0-openmp
  # tests, benchmarks, style
  libgtest-dev libgmock-dev libbenchmark-dev clang-format-14
  # reference scripts and independent test fixtures (h5py writes AnnData/HEST files, anndata reads the
  # module's .h5ad files back, torchvision is the regressor's reference ResNet; never a runtime
  # dependency), pyramidal TIFFs for the slide
  # benchmark (vips), /usr/bin/time for the adaptation-cost benchmark, off-screen figures
  python3 python3-numpy python3-torch python3-torchvision python3-h5py python3-anndata libtiff-tools libvips-tools time xvfb xauth
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-debian-packages: all ${#packages[@]} packages present"
else
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-debian-packages: missing ${missing[*]}; run this script as root (or with sudo)" >&2
    exit 1
  fi
  echo "install-debian-packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# LibTorch runs its loops on OpenMP threads; OpenBLAS's pthread build (Debian's automatic choice)
# runs matrix products on a second pool of threads, and the two pools spin against each other on
# the same cores. The OpenMP build shares LibTorch's pool: on 2 cores diffusion training ran 1.4x
# and sampling 1.2x faster (Documentation/Benchmarks.md). The choice is machine-wide (numpy and
# other programs load it too), so it is made only while Debian still chooses automatically: a BLAS
# an administrator chose by hand is kept.
multiarch=$(gcc -dumpmachine) # x86_64-linux-gnu: Debian's multiarch triplet
for library in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
  name="$library-$multiarch"
  openmp="/usr/lib/$multiarch/openblas-openmp/$library"
  query=$(update-alternatives --query "$name" 2>/dev/null || true)
  if [[ "$query" != *"Status: auto"* || "$query" == *"Value: $openmp"* || ! -e "$openmp" ]]; then
    continue
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-debian-packages: as root this script would select OpenBLAS's OpenMP build for $library" >&2
    continue
  fi
  echo "install-debian-packages: selecting OpenBLAS's OpenMP build for $library"
  update-alternatives --set "$name" "$openmp"
done
