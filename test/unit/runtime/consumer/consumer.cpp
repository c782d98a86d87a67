// Loads add.so (argv[1]) through the C++ wrapper and prints y[0, 3].
#include <glmrt/glmrt.hpp>

#include <cstdio>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  glmrt::Model model;
  glmrt::Session session;
  glmrt::Status status = glmrt::Model::load(argv[1], &model);
  if (status.ok()) status = glmrt::Session::create(model, &session);
  float x[4] = {1, 1, 1, 1};
  int64_t dims[2] = {1, 4};
  glmrt_tensor_view_t in =
      glmrt_tensor_view_make(GLMRT_DTYPE_F32, 2, dims, x, sizeof(x));
  std::vector<glmrt::Tensor> outputs;
  if (status.ok()) status = session.run(model.main(), &in, 1, &outputs);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.message());
    return 1;
  }
  std::printf("consumer %s: y[0,3] = %g\n", glmrt_runtime_version_string(),
              outputs[0].data<float>()[3]);
  return 0;
}
