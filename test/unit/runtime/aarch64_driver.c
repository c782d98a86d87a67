/*===- aarch64_driver.c - glmrt on AArch64 under qemu-user ------------------===*
 *
 *   aarch64_driver model.so
 *
 * Prints the detected CPU, loads the model and prints the load status; if
 * it loaded, runs it ("add": y = x + w on x = 1s; "parallel": y = 2x on 4
 * threads) and prints the result. Always exits 0 unless the result is wrong:
 * aarch64_qemu_test.cmake reads the output.
 *===----------------------------------------------------------------------===*/
#include <glmrt/glmrt.h>

#include <stdio.h>
#include <string.h>

static int run_add(glmrt_session_t *session) {
  float x[4] = {1, 1, 1, 1};
  int64_t dims[2] = {1, 4};
  glmrt_tensor_view_t in =
      glmrt_tensor_view_make(GLMRT_DTYPE_F32, 2, dims, x, sizeof(x));
  glmrt_tensor_t *y = NULL;
  glmrt_status_t *st = glmrt_session_run(session, NULL, &in, 1, &y, 1);
  printf("run: %s\n", glmrt_status_message(st));
  int ok = !st && ((const float *)glmrt_tensor_data(y))[3] == 5.0f;
  if (ok) printf("y[0,3] = %g\n", ((const float *)glmrt_tensor_data(y))[3]);
  glmrt_status_free(st);
  glmrt_tensor_release(y);
  return ok;
}

static int run_parallel(glmrt_session_t *session) {
  enum { N = 4096 };
  static float x[N];
  for (int i = 0; i < N; ++i) x[i] = (float)i;
  int32_t delay = 100;
  int64_t xd[1] = {N}, dd[1] = {1};
  glmrt_tensor_view_t in[2] = {
      glmrt_tensor_view_make(GLMRT_DTYPE_F32, 1, xd, x, sizeof(x)),
      glmrt_tensor_view_make(GLMRT_DTYPE_I32, 1, dd, &delay, sizeof(delay))};
  glmrt_tensor_t *out[2] = {NULL, NULL};
  glmrt_status_t *st = glmrt_session_run(session, NULL, in, 2, out, 2);
  printf("run: %s\n", glmrt_status_message(st));
  int ok = !st;
  for (int i = 0; ok && i < N; ++i)
    ok = ((const float *)glmrt_tensor_data(out[0]))[i] == 2.0f * i;
  if (ok) {
    const int64_t *s = (const int64_t *)glmrt_tensor_data(out[1]);
    printf("parallel: ok, %lld chunks on %lld threads, nested inline %lld\n",
           (long long)s[0], (long long)s[1], (long long)s[2]);
    ok = s[1] >= 1 && s[1] <= 4 && s[2] == s[0] && s[3] == 2;
  }
  glmrt_status_free(st);
  glmrt_tensor_release(out[0]);
  glmrt_tensor_release(out[1]);
  return ok;
}

int main(int argc, char **argv) {
  glmrt_model_t *model = NULL;
  glmrt_session_t *session = NULL;
  glmrt_session_options_t options;
  char features[256];
  int ok = 1;
  if (argc != 2) return 2;
  glmrt_cpu_features_format(glmrt_runtime_cpu_features(), features,
                            sizeof(features));
  printf("cpu: %s [%s] (%s)\n", glmrt_runtime_cpu_name(), features,
         glmrt_runtime_arch_name());
  glmrt_status_t *st = glmrt_model_load(argv[1], NULL, &model);
  printf("load: %s: %s\n", glmrt_status_code_name(glmrt_status_code(st)),
         glmrt_status_message(st));
  glmrt_status_free(st);
  if (model) {
    glmrt_session_options_init(&options);
    options.num_threads = 4;
    st = glmrt_session_create(model, &options, &session);
    if (st) {
      printf("session: %s\n", glmrt_status_message(st));
      glmrt_status_free(st);
      ok = 0;
    } else if (strcmp(glmrt_model_name(model), "parallel") == 0) {
      ok = run_parallel(session);
    } else {
      ok = run_add(session);
    }
  }
  glmrt_session_release(session);
  glmrt_model_release(model);
  return ok ? 0 : 1;
}
