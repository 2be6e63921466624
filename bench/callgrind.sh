#!/usr/bin/env bash
# Instruction counts, which repeat exactly on a noisy machine: valgrind's callgrind counts
# the instructions of one value_and_grad on 3-4-4-2 (ReLU, MSE) and on 64-128-128-10 (ReLU,
# softmax cross-entropy), float. Built with -O3 -mavx2 -mfma (valgrind 3.19 does not run
# AVX-512). Each count is (run of 2N calls − run of N calls) / N: set-up cancels out.
#   bench/callgrind.sh          (from the top folder; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/count.cpp" <<'CPP'
#include <cstdlib>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;
using N2 = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 4, sg::ReLU>, sg::Dense<4, 2>>;
using N4 = sg::Sequential<sg::Dense<64, 128, sg::ReLU>, sg::Dense<128, 128, sg::ReLU>, sg::Dense<128, 10>>;
template <class Net, class Loss, class Target>
float repeat(int calls, const Loss& loss, const Target& target) {
  static const sg::Model<Net, float> model{7};
  static sg::Gradients<Net, float> grads;
  std::array<float, Net::in_size> x{};
  float sum = 0;
  for (int i = 0; i < calls; ++i) {
    x[static_cast<std::size_t>(i) % Net::in_size] = static_cast<float>(i % 5) * 0.1f;
    sum += sg::value_and_grad(model, loss, x, target, grads);
  }
  return sum;
}
int main(int argc, char** argv) {
  const int calls = std::atoi(argv[2]);
  const float sum = argv[1][0] == '2' ? repeat<N2>(calls, sg::MSE{}, std::array<float, 2>{1, 0})
                                       : repeat<N4>(calls, sg::SoftmaxCrossEntropy{}, std::size_t{3});
  return sum == 12345.0f;
}
CPP
g++ -std=c++20 -O3 -mavx2 -mfma -DNDEBUG -Iinclude "$work/count.cpp" -o "$work/count"
instructions() {  # NETWORK CALLS
  valgrind --tool=callgrind --callgrind-out-file="$work/out" "$work/count" "$1" "$2" 2>&1 >/dev/null |
    awk '/Collected/ {print $4}'
}
for network in 2 4; do
  calls=$([ "$network" = 2 ] && echo 2000 || echo 200)
  once=$(instructions "$network" "$calls")
  twice=$(instructions "$network" $((2 * calls)))
  label=$([ "$network" = 2 ] && echo "N2 3-4-4-2 ReLU, MSE" || echo "N4 64-128-128-10 ReLU, cross-entropy")
  printf "%-40s value_and_grad: %8d instructions\n" "$label" $(((twice - once) / calls))
done
