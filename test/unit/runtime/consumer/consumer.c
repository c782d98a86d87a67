/* Loads add.so (argv[1]) through the C API and prints y[0, 3]. */
#include <glmrt/glmrt.h>

#include <stdio.h>

int main(int argc, char **argv) {
  glmrt_model_t *model = NULL;
  glmrt_session_t *session = NULL;
  glmrt_tensor_t *y = NULL;
  glmrt_status_t *status = NULL;
  float x[4] = {1, 1, 1, 1};
  int64_t dims[2] = {1, 4};
  glmrt_tensor_view_t in;
  int rc = 1;
  if (argc != 2) return 2;
  status = glmrt_model_load(argv[1], NULL, &model);
  if (!status) status = glmrt_session_create(model, NULL, &session);
  in = glmrt_tensor_view_make(GLMRT_DTYPE_F32, 2, dims, x, sizeof(x));
  if (!status) status = glmrt_session_run(session, NULL, &in, 1, &y, 1);
  if (status) {
    fprintf(stderr, "%s\n", glmrt_status_message(status));
    glmrt_status_free(status);
  } else {
    printf("consumer %s: y[0,3] = %g\n", glmrt_runtime_version_string(),
           ((const float *)glmrt_tensor_data(y))[3]);
    rc = 0;
  }
  glmrt_tensor_release(y);
  glmrt_session_release(session);
  glmrt_model_release(model);
  return rc;
}
