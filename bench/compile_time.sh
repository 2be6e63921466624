#!/usr/bin/env bash
# Compile time and code size as measured properties: compiles one program per network (its
# inference and value_and_grad, as a user's translation unit would hold them) with g++ and
# clang++ at -O3 -march=native, and prints wall time and code size (all .text sections).
#   bench/compile_time.sh                 (from the top folder; about two minutes)
#   bench/compile_time.sh --instructions  the 64-128-128-10 programs only, g++ only: the
#                   instructions cc1plus executes (valgrind; about five minutes), which
#                   repeat exactly where this machine's times move by a third
# Networks: depth 1, 4, 8, 16, 32 of Dense<32,32,Tanh>; widths 4, 16, 64, 128, 256 of
# Dense<w,w,Tanh> ×2 → Dense<w,w>; and 64-128-128-10 written four ways: staticgrad with its
# umbrella header, staticgrad with only the headers the program uses, the bench's
# hand-written loops, the bench's Eigen peer.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-std=c++20 -O3 -march=native -DNDEBUG -w -Iinclude -Ibench -I/usr/include/eigen3)

umbrella="#include <staticgrad/staticgrad.hpp>"
staticgrad_program() {  # NET IN OUT [INCLUDES]
  cat <<CPP
${4:-$umbrella}
namespace sg = staticgrad;
using Net = $1;
float run(const sg::Model<Net, float>& model, sg::Gradients<Net, float>& grads,
          const std::array<float, $2>& x, const std::array<float, $3>& y) {
  return sg::value_and_grad(model, sg::MSE{}, x, y, grads) + model(x)[0];
}
CPP
}

chain() {  # COUNT LAYER: Sequential<LAYER, LAYER, …>
  local layers=$2
  for ((i = 1; i < $1; ++i)); do layers+=", $2"; done
  echo "sg::Sequential<$layers>"
}

# instructions SOURCE-FILE: prints how many instructions g++'s cc1plus executes compiling it
instructions() {
  local cc1plus
  cc1plus=$(g++ "${flags[@]}" -S "$1" -o "$work/count.s" -### 2>&1 | grep cc1plus | tr -d '"')
  # shellcheck disable=SC2086 # the command line is split into words on purpose
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" $cc1plus 2>&1 >/dev/null |
    awk '/Collected :/ {printf "%.2f G instructions\n", $4 / 1e9}'
}

# measure NAME COMPILER SOURCE-FILE: prints "seconds text-bytes"
measure() {
  local start end
  start=$(date +%s.%N)
  "$2" "${flags[@]}" -c "$3" -o "$work/$1.o"
  end=$(date +%s.%N)
  printf "%6.2f s %9s B" "$(echo "$end - $start" | bc)" "$(size -A "$work/$1.o" | awk '$1 ~ /^.text/ {sum += $2} END {print sum}')"
}

row() {  # LABEL SOURCE-FILE
  printf "%-44s" "$1"
  for compiler in g++ clang++; do
    printf "   %s" "$(measure "$(basename "$2" .cpp)-$compiler" "$compiler" "$2")"
  done
  echo
}

# The 64-128-128-10 programs.
n4="sg::Sequential<sg::Dense<64, 128, sg::ReLU>, sg::Dense<128, 128, sg::ReLU>, sg::Dense<128, 10>>"
staticgrad_program "$n4" 64 10 > "$work/n4.cpp"
staticgrad_program "$n4" 64 10 "$(printf '#include <staticgrad/%s.hpp>\n' layers/dense layers/sequential losses model)" > "$work/n4_own.cpp"
cat > "$work/n4_hand.cpp" <<CPP
#include "hand_written.hpp"
using Net = hand::Mlp3<float, 64, 128, 128, 10, hand::ReLU>;
float run(const Net& net, Net& grads, const float* x, const float* y) {
  float out[10];
  net.infer(x, out);
  return net.value_and_grad(x, y, grads) + out[0];
}
CPP
cat > "$work/n4_eigen.cpp" <<CPP
#include "eigen_peer.hpp"
namespace ep = eigen_peer;
using Net = ep::Chain<false, ep::Dense<64, 128, ep::Act::relu>, ep::Dense<128, 128, ep::Act::relu>,
                      ep::Dense<128, 10, ep::Act::identity>>;
float run(Net& net, const Net::Input& x) { return net.value_and_grad(x, std::size_t{3}) + net.infer(x)(0); }
CPP

if [ "${1:-}" = --instructions ]; then
  for program in n4 n4_own n4_hand n4_eigen; do
    printf "%-12s %s\n" "$program.cpp" "$(instructions "$work/$program.cpp")"
  done
  exit
fi

printf "%-44s   %-21s   %-21s\n" "program (inference + value_and_grad)" "g++ 12" "clang 14"
for depth in 1 4 8 16 32; do
  staticgrad_program "$(chain $depth "sg::Dense<32, 32, sg::Tanh>")" 32 32 > "$work/depth$depth.cpp"
  row "depth $depth × Dense<32,32,Tanh>" "$work/depth$depth.cpp"
done
for width in 4 16 64 128 256; do
  staticgrad_program "sg::Sequential<sg::Dense<$width, $width, sg::Tanh>, sg::Dense<$width, $width, sg::Tanh>, sg::Dense<$width, $width>>" \
    "$width" "$width" > "$work/width$width.cpp"
  row "width $width: $width-$width-$width-$width (tanh)" "$work/width$width.cpp"
done
row "64-128-128-10 ReLU: staticgrad" "$work/n4.cpp"
row "64-128-128-10 ReLU: staticgrad, headers it uses" "$work/n4_own.cpp"
row "64-128-128-10 ReLU: hand-written loops" "$work/n4_hand.cpp"
row "64-128-128-10 ReLU: Eigen 3.4" "$work/n4_eigen.cpp"
