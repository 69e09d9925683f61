#!/usr/bin/env bash
# Builds a Python-wrapped ITK 5.2.1 build tree from Debian's own source package (Debian ships no
# wrapped ITK, and ITK's external-module wrapping needs a wrapped *build tree*; an install tree is
# refused). About an hour on 2 cores. The build tree records absolute paths, so it lives at a fixed
# place: ITK_WRAP_ROOT (default /opt/itk-wrap; src/ and build/ below it).
#
# Idempotent: a finished tree (build/ITKConfig.cmake and a stamp of this script's settings) is kept
# and the script returns at once; an interrupted build resumes where Ninja stopped.
# Needs root for apt-get the first time (packages: see below; a deb-src entry is added if absent).
set -euo pipefail

root=${ITK_WRAP_ROOT:-/opt/itk-wrap}
module_dir=$(cd "$(dirname "$0")/.." && pwd)
version=5.2.1
jobs=${ITK_WRAP_JOBS:-$(nproc)}

# The ITK modules the module declares (itk-module.cmake's DEPENDS and PRIVATE_DEPENDS) and
# ITKBridgeNumPy (numpy views of images); only these are built and wrapped.
modules=$(sed -n '/^ *DEPENDS/,/^ *TEST_DEPENDS/p' "$module_dir/itk-module.cmake" |
  grep -oE '^ +ITK[A-Za-z0-9]+' | tr -d ' ' | sort -u)
modules="$modules ITKBridgeNumPy"
stamp_text="ITK $version; modules: $(echo $modules); pixel types: uc rgb rgba float; dims 2;3"

if [[ -f "$root/build/ITKConfig.cmake" && -f "$root/build/.wrapped-itk-complete" ]] &&
  [[ "$(cat "$root/build/.wrapped-itk-complete")" == "$stamp_text" ]]; then
  echo "build-wrapped-itk: $root/build is complete ($stamp_text)"
  exit 0
fi

packages=(dpkg-dev cmake ninja-build g++ castxml swig python3-dev python3-numpy libgtest-dev)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "build-wrapped-itk: missing ${missing[*]}; run as root (or install them)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

mkdir -p "$root"
if [[ ! -f "$root/src/CMakeLists.txt" ]]; then
  # Debian's sources: a deb-src twin of Debian's own entry, then the source package (download only:
  # unpacking with dpkg-source would apply Debian's packaging patches, which we want too).
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "build-wrapped-itk: no deb-src entry in /etc/apt; run as root once" >&2
      exit 1
    fi
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      >/etc/apt/sources.list.d/debian-src.sources
    apt-get update -q
  fi
  download="$root/download"
  mkdir -p "$download"
  # The source of the ITK that the module builds against here (Debian's exact revision).
  debian_version=$(apt-cache showsrc insighttoolkit5 | sed -n 's/^Version: //p' | grep "^$version" | head -n1)
  if [[ -z "$debian_version" ]]; then
    echo "build-wrapped-itk: Debian's sources list no insighttoolkit5 $version" >&2
    exit 1
  fi
  (cd "$download" && apt-get source --download-only "insighttoolkit5=$debian_version")
  dsc=$(ls "$download"/insighttoolkit5_"$version"*.dsc | head -n1)
  rm -rf "$root/src.partial"
  dpkg-source --no-check -x "$dsc" "$root/src.partial"
  # numpy 1.24 removed the np.bool alias that ITK 5.2's Python type table still uses.
  sed -i 's/np\.bool)/np.bool_)/' "$root/src.partial/Wrapping/Generators/Python/itk/support/types.py"
  mv "$root/src.partial" "$root/src"
fi

module_flags=()
for m in $modules; do module_flags+=("-DModule_$m=ON"); done

mkdir -p "$root/build"
if [[ ! -f "$root/build/build.ninja" ]]; then
  cmake -S "$root/src" -B "$root/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DBUILD_EXAMPLES=OFF \
    -DITK_BUILD_DEFAULT_MODULES=OFF "${module_flags[@]}" \
    -DITK_WRAP_PYTHON=ON -DITK_USE_SYSTEM_SWIG=ON -DITK_USE_SYSTEM_CASTXML=ON \
    -DITK_USE_SYSTEM_GOOGLETEST=ON -DITK_WRAP_DOC=OFF \
    -DITK_WRAP_unsigned_char=ON -DITK_WRAP_rgb_unsigned_char=ON -DITK_WRAP_rgba_unsigned_char=ON \
    -DITK_WRAP_float=ON "-DITK_WRAP_IMAGE_DIMS=2;3" \
    -DPython3_EXECUTABLE=/usr/bin/python3
fi
ninja -C "$root/build" -j "$jobs"
echo "$stamp_text" >"$root/build/.wrapped-itk-complete"
echo "build-wrapped-itk: $root/build is complete ($stamp_text)"
