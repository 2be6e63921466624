/* Compiled against emit_standalone's output alone (no staticgrad, no Boost: only the
   standard library), as C99 (this file) and as C++17 (standalone_check.cpp), once for
   each header the writer wrote (STANDALONE_HEADER): reads inputs and the model's outputs
   from the file given, and checks that the standalone code computes them within 1e-6,
   relative to the output's size (at least 1).
     standalone_check <expected outputs> */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include STANDALONE_HEADER /* a string literal: the build says which */
#ifdef __cplusplus
#define IN_SIZE model::in_size
#define OUT_SIZE model::out_size
#define INFER model::infer
template <class T>
T scalar_of(void (*)(const T*, T*));
typedef decltype(scalar_of(model::infer)) scalar;
#define LANGUAGE "C++17"
#else
#define IN_SIZE MODEL_IN_SIZE
#define OUT_SIZE MODEL_OUT_SIZE
#define INFER model_infer
typedef float scalar;
#define LANGUAGE "C99"
#endif

int main(int argc, char** argv) {
  FILE* file;
  char token[64];
  scalar x[IN_SIZE], y[OUT_SIZE];
  double expected[OUT_SIZE], worst = 0;
  int rows = 0, i;
  if (argc != 2 || !(file = fopen(argv[1], "r"))) return 2;
  for (;;) {
    for (i = 0; i < (int)IN_SIZE; ++i) {
      if (fscanf(file, "%63s", token) != 1) goto done;
      x[i] = (scalar)strtod(token, NULL);
    }
    for (i = 0; i < (int)OUT_SIZE; ++i) {
      if (fscanf(file, "%63s", token) != 1) return 3;
      expected[i] = strtod(token, NULL);
    }
    INFER(x, y);
    for (i = 0; i < (int)OUT_SIZE; ++i) {
      const double error = fabs((double)y[i] - expected[i]) / fmax(fabs(expected[i]), 1.0);
      if (error > worst) worst = error;
    }
    ++rows;
  }
done:
  fclose(file);
  printf("standalone %s (%s): %d inputs, largest relative error %.3g\n", LANGUAGE,
         sizeof(scalar) == 4 ? "float" : "double", rows, worst);
  return rows == 20 && worst <= 1e-6 ? 0 : 1;
}
