/*===- runtime.c - Version and element types --------------------------------===*/
#include <glmrt/artifact_abi.h>
#include <glmrt/glmrt.h>

#define GLMRT_STR2(x) #x
#define GLMRT_STR(x) GLMRT_STR2(x)

/* The public enum mirrors the ABI's; both are frozen. */
_Static_assert((int)GLMRT_DTYPE_F32 == (int)GLM_DTYPE_F32 &&
                   (int)GLMRT_DTYPE_F16 == (int)GLM_DTYPE_F16 &&
                   (int)GLMRT_DTYPE_BF16 == (int)GLM_DTYPE_BF16 &&
                   (int)GLMRT_DTYPE_F64 == (int)GLM_DTYPE_F64 &&
                   (int)GLMRT_DTYPE_I8 == (int)GLM_DTYPE_I8 &&
                   (int)GLMRT_DTYPE_U8 == (int)GLM_DTYPE_U8 &&
                   (int)GLMRT_DTYPE_I16 == (int)GLM_DTYPE_I16 &&
                   (int)GLMRT_DTYPE_U16 == (int)GLM_DTYPE_U16 &&
                   (int)GLMRT_DTYPE_I32 == (int)GLM_DTYPE_I32 &&
                   (int)GLMRT_DTYPE_U32 == (int)GLM_DTYPE_U32 &&
                   (int)GLMRT_DTYPE_I64 == (int)GLM_DTYPE_I64 &&
                   (int)GLMRT_DTYPE_U64 == (int)GLM_DTYPE_U64 &&
                   (int)GLMRT_DTYPE_BOOL == (int)GLM_DTYPE_BOOL &&
                   (int)GLMRT_DTYPE_F8E4M3FN == (int)GLM_DTYPE_F8E4M3FN &&
                   (int)GLMRT_DTYPE_F8E4M3FNUZ == (int)GLM_DTYPE_F8E4M3FNUZ &&
                   (int)GLMRT_DTYPE_F8E5M2 == (int)GLM_DTYPE_F8E5M2 &&
                   (int)GLMRT_DTYPE_F8E5M2FNUZ == (int)GLM_DTYPE_F8E5M2FNUZ &&
                   (int)GLMRT_DTYPE_F4E2M1FN == (int)GLM_DTYPE_F4E2M1FN &&
                   (int)GLMRT_DTYPE_I4 == (int)GLM_DTYPE_I4 &&
                   (int)GLMRT_DTYPE_U4 == (int)GLM_DTYPE_U4,
               "glmrt_dtype_t must match glm_dtype_t");
_Static_assert(GLMRT_MAX_RANK == (int)GLM_ABI_MAX_RANK,
               "GLMRT_MAX_RANK must match GLM_ABI_MAX_RANK");

GLMRT_API uint32_t glmrt_runtime_version(void) { return GLMRT_VERSION; }

GLMRT_API const char *glmrt_runtime_version_string(void) {
  return GLMRT_STR(GLMRT_VERSION_MAJOR) "." GLMRT_STR(
      GLMRT_VERSION_MINOR) "." GLMRT_STR(GLMRT_VERSION_PATCH);
}

GLMRT_API uint32_t glmrt_runtime_abi_version(void) {
  return (GLM_ABI_VERSION_MAJOR << 16) | GLM_ABI_VERSION_MINOR;
}

GLMRT_API size_t glmrt_dtype_size(glmrt_dtype_t dtype) {
  return glm_dtype_size((uint32_t)dtype);
}

GLMRT_API const char *glmrt_dtype_name(glmrt_dtype_t dtype) {
  switch (dtype) {
  case GLMRT_DTYPE_F32: return "f32";
  case GLMRT_DTYPE_F16: return "f16";
  case GLMRT_DTYPE_BF16: return "bf16";
  case GLMRT_DTYPE_F64: return "f64";
  case GLMRT_DTYPE_I8: return "i8";
  case GLMRT_DTYPE_U8: return "u8";
  case GLMRT_DTYPE_I16: return "i16";
  case GLMRT_DTYPE_U16: return "u16";
  case GLMRT_DTYPE_I32: return "i32";
  case GLMRT_DTYPE_U32: return "u32";
  case GLMRT_DTYPE_I64: return "i64";
  case GLMRT_DTYPE_U64: return "u64";
  case GLMRT_DTYPE_BOOL: return "bool";
  case GLMRT_DTYPE_F8E4M3FN: return "f8e4m3fn";
  case GLMRT_DTYPE_F8E4M3FNUZ: return "f8e4m3fnuz";
  case GLMRT_DTYPE_F8E5M2: return "f8e5m2";
  case GLMRT_DTYPE_F8E5M2FNUZ: return "f8e5m2fnuz";
  case GLMRT_DTYPE_F4E2M1FN: return "f4e2m1fn";
  case GLMRT_DTYPE_I4: return "i4";
  case GLMRT_DTYPE_U4: return "u4";
  case GLMRT_DTYPE_INVALID: break;
  }
  return "invalid";
}
