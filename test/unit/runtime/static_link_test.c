/*===- static_link_test.c - glmrt.h from C, linked against libglmrt.a -----===*
 *
 * Compiled as strict C99 with -pedantic -Werror to prove the public header
 * is plain C; linked against the static library. Loads add.so (argv[1]),
 * runs it and checks the result. Exit 0 on success.
 *===----------------------------------------------------------------------===*/
#include <glmrt/glmrt.h>

#include <stdio.h>

int main(int argc, char **argv) {
  glmrt_model_t *model = NULL;
  glmrt_session_t *session = NULL;
  glmrt_tensor_t *y = NULL;
  glmrt_status_t *status = NULL;
  int rc = 1;
  float x[4] = {1, 1, 1, 1};
  int64_t dims[2] = {1, 4};
  glmrt_tensor_view_t in;
  glmrt_session_options_t options;

  if (argc != 2) {
    fprintf(stderr, "usage: static_link_test add.so\n");
    return 2;
  }
  status = glmrt_model_load(argv[1], NULL, &model);
  if (status) goto cleanup;
  glmrt_session_options_init(&options);
  options.num_threads = 2;
  status = glmrt_session_create(model, &options, &session);
  if (status) goto cleanup;
  in = glmrt_tensor_view_make(GLMRT_DTYPE_F32, 2, dims, x, sizeof(x));
  status = glmrt_session_run(session, NULL, &in, 1, &y, 1);
  if (status) goto cleanup;
  if (((const float *)glmrt_tensor_data(y))[3] != 5.0f) {
    fprintf(stderr, "wrong result\n");
    goto cleanup;
  }
  printf("glmrt %s: ok\n", glmrt_runtime_version_string());
  rc = 0;

cleanup:
  if (status) {
    fprintf(stderr, "%s: %s\n", glmrt_status_code_name(glmrt_status_code(status)),
            glmrt_status_message(status));
    glmrt_status_free(status);
  }
  glmrt_tensor_release(y);
  glmrt_session_release(session);
  glmrt_model_release(model);
  return rc;
}
