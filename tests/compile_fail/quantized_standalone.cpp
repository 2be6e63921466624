// emit_standalone writes float and double weights; a quantized model is refused by name.
// EXPECT: a quantized network (bf16, int8) bakes into a header with emit_header
#include <sstream>

#include <staticgrad/io/standalone.hpp>
#include <staticgrad/staticgrad.hpp>
namespace sg = staticgrad;

using Net = sg::Sequential<sg::Dense<3, 4, sg::ReLU>, sg::Dense<4, 2>>;

int main() {
  const sg::Model<Net, float> model{1};
  std::ostringstream out;
#ifdef STATICGRAD_COMPILE_FAIL_OK
  sg::emit_standalone(model, "net", out);
#else
  sg::emit_standalone(sg::quantize<sg::int8>(model), "net", out);
#endif
  return out.str().empty() ? 1 : 0;
}
