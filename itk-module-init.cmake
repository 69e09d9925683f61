# Third-party libraries, found before the module's targets are defined (ITK Software Guide,
# "Third-party dependencies"). Each can be pointed elsewhere in the usual CMake way:
#   -DTorch_DIR=<libtorch>/share/cmake/Torch  (PyTorch's bundled LibTorch, e.g. a CUDA build;
#                                             Debian's /usr/lib/x86_64-linux-gnu/cmake/Torch by default)
#   -Dnlohmann_json_DIR=..., PKG_CONFIG_PATH for OpenSlide.
# The c2l tool (examples/) finds its own: CLI11, VTK and X11.

find_package(Torch REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(PkgConfig REQUIRED)
pkg_check_modules(OPENSLIDE REQUIRED IMPORTED_TARGET openslide>=3.4)

message(STATUS "SpatialTranscriptomics: LibTorch ${Torch_VERSION} (${Torch_DIR}), OpenSlide ${OPENSLIDE_VERSION}, "
               "HDF5 ${HDF5_VERSION}, nlohmann_json ${nlohmann_json_VERSION}")
