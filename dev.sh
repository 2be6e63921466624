#!/usr/bin/env bash
# The README's two commands, for a fresh Debian 12 machine (as root, or with the packages
# already there):
#   ./dev.sh demo   installs what is missing, builds and runs examples/quickstart
#   ./dev.sh test   installs what is missing, then builds and runs the whole test suite
#                   with g++ -O3 and its tests with clang -O2 (warnings as errors), and the
#                   tests and examples again with clang's ASan+UBSan; the clang -O2 build
#                   also runs the file loaders' fuzz targets (15 and 60 s) and the threaded
#                   batches under ThreadSanitizer
# and one more:
#   ./dev.sh example NAME [ARGS...]   builds and runs examples/NAME.cpp; for depth, vanishing,
#                   amp and wavenet_amp it also plots the results (python3-matplotlib) into out/NAME
#   ./dev.sh bench [ARGS...]   builds and runs the engine comparison and the recurrent one
#                   (bench/README.md); RTNeural joins the latter when its headers are found,
#                   LibTorch joins when libtorch-dev is installed (large: dev.sh leaves it to you)
# Only Debian packages are installed; nothing is downloaded from anywhere else.
set -euo pipefail
cd "$(dirname "$0")"
jobs=$(nproc)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Installs the named Debian packages that are not installed yet. "a|b" means either will do
# (the first is installed when neither is).
install_missing() {
  local missing=() choice
  for choice in "$@"; do
    local found=""
    for package in ${choice//|/ }; do
      if installed "$package"; then found=1; break; fi
    done
    [ -n "$found" ] || missing+=("${choice%%|*}")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    echo "dev.sh: missing Debian packages: ${missing[*]}; run as root, or first:" >&2
    echo "  sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "dev.sh: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

base_packages=(g++ cmake ninja-build "libboost1.81-dev|libboost-dev" nlohmann-json3-dev
  libxsimd-dev)

# configure DIR [cmake options...]: a fresh configuration in DIR (an old one is reused).
configure() {
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_COMPILE_WARNING_AS_ERROR=ON "$@"
}

# run_suite NAME COMPILER [cmake options...]: builds everything and runs ctest.
run_suite() {
  local name=$1 compiler=$2; shift 2
  echo "=== $name"
  configure "build/$name" -DCMAKE_CXX_COMPILER="$compiler" "$@"
  cmake --build "build/$name" -j "$jobs"
  ctest --test-dir "build/$name" -j "$jobs" --output-on-failure
}

# run_example NAME [ARGS...]: a Release build of one example, run from the top folder.
# Two examples have a second half: embed trains, then deploys in a separate program;
# from_pytorch trains in PyTorch first when python3-torch is installed.
run_example() {
  local name=$1; shift
  local plotted="" targets=$name packages=""
  case "$name" in
    depth|vanishing|mixed_precision) plotted=1 ;;
    amp|wavenet_amp) plotted=1; packages=libsndfile1-dev ;;
    mpi_classifier) packages="libopenmpi-dev openmpi-bin" ;;
    embed) targets="embed_train embed_deploy" ;;
  esac
  install_missing "${base_packages[@]}" ${plotted:+python3-matplotlib} $packages
  configure build/demo -DCMAKE_BUILD_TYPE=Release -DSTATICGRAD_BUILD_TESTS=OFF \
    -DSTATICGRAD_BUILD_BENCH=OFF
  cmake --build build/demo -j "$jobs" --target $targets
  case "$name" in
    embed)
      ./build/demo/examples/embed_train out/embed/waveshaper.sgrd
      ./build/demo/examples/embed_deploy out/embed/waveshaper.sgrd "$@"
      ;;
    from_pytorch)
      local weights=tests/data/pytorch_mlp.safetensors reference=tests/data/pytorch_mlp.txt
      if /usr/bin/python3 -c "import torch" 2>/dev/null; then
        /usr/bin/python3 examples/from_pytorch.py out/from_pytorch
        weights=out/from_pytorch/model.safetensors reference=out/from_pytorch/reference.txt
      else
        echo "dev.sh: python3-torch is not installed: using the committed $weights"
      fi
      ./build/demo/examples/from_pytorch "$weights" "$reference" "$@"
      ;;
    mpi_classifier)
      # Two ranks on this machine; Open MPI refuses to start as root unless told.
      mpirun -np 2 --oversubscribe $([ "$(id -u)" = 0 ] && echo --allow-run-as-root) \
        ./build/demo/examples/mpi_classifier "$@"
      ;;
    *) "./build/demo/examples/$name" "$@" ;;
  esac
  if [ -n "$plotted" ]; then /usr/bin/python3 examples/plot.py "$name" "out/$name"; fi
}

case "${1:-}" in
  demo)
    run_example quickstart
    ;;
  bench)
    install_missing "${base_packages[@]}" libbenchmark-dev libeigen3-dev
    installed libtorch-dev || echo "dev.sh: libtorch-dev is not installed: the bench runs without LibTorch"
    configure build/bench -DCMAKE_BUILD_TYPE=Release -DSTATICGRAD_BUILD_TESTS=OFF \
      -DSTATICGRAD_BUILD_EXAMPLES=OFF -DSTATICGRAD_BUILD_BENCH=ON
    cmake --build build/bench -j "$jobs" --target staticgrad_bench staticgrad_bench_recurrent
    ./build/bench/bench/staticgrad_bench "${@:2}"
    ./build/bench/bench/staticgrad_bench_recurrent "${@:2}"
    ;;
  example)
    [ -n "${2:-}" ] && { [ -f "examples/$2.cpp" ] || [ "$2" = embed ]; } || { echo "usage: ./dev.sh example NAME (one of: embed $(cd examples && ls *.cpp | grep -v '^embed_' | sed 's/\.cpp//' | tr '\n' ' '))" >&2; exit 2; }
    run_example "${@:2}"
    ;;
  test)
    install_missing "${base_packages[@]}" clang libclang-rt-14-dev libomp-dev doctest-dev libbenchmark-dev \
      libeigen3-dev libsndfile1-dev libopenmpi-dev openmpi-bin
    run_suite gcc g++ -DCMAKE_BUILD_TYPE=Release
    # clang at -O2: the other optimization level users build with (g++ has -O3, as the bench).
    # The examples and the tests built again for this machine's instruction sets build with
    # clang in the sanitizer suite (clang warns the same at any -O), and whether each header
    # compiles on its own does not depend on the compiler.
    run_suite clang clang++ -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
      -DSTATICGRAD_BUILD_BENCH=OFF -DSTATICGRAD_BUILD_EXAMPLES=OFF -DSTATICGRAD_HEADER_TESTS=OFF \
      -DSTATICGRAD_ISA_TESTS=OFF -DSTATICGRAD_FUZZ=ON
    # Without OpenMP here: the other two suites run batches on threads, this one checks
    # that the same tests pass with the shards one after another. clang, because its UBSan
    # also checks float-to-integer conversions, and it builds this suite in a third of
    # g++'s time (measured: 10 against 28 CPU minutes).
    run_suite sanitize clang++ -DCMAKE_BUILD_TYPE=Debug -DSTATICGRAD_BUILD_BENCH=OFF -DSTATICGRAD_OPENMP=OFF \
      "-DSTATICGRAD_SANITIZE=address;undefined"
    echo "dev.sh: all test suites passed (g++, clang with ThreadSanitizer, clang with ASan+UBSan)"
    ;;
  *)
    echo "usage: ./dev.sh demo | ./dev.sh test | ./dev.sh example NAME | ./dev.sh bench" >&2
    exit 2
    ;;
esac
