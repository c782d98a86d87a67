// RUN: glm-opt %s -glm-fold-constants -canonicalize -split-input-file | FileCheck %s

// Weights of any size are evaluated into new blobs: a transpose and a
// scale of a dense_resource weight become one constant.
// CHECK-LABEL: func.func @transpose_scale
func.func @transpose_scale() -> tensor<3x2xf32> {
  %w = glm.constant {value = dense_resource<w> : tensor<2x3xf32>} : tensor<2x3xf32>
  %t = glm.transpose %w {perm = [1, 0]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %c = glm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %s = glm.mul %t, %c : (tensor<3x2xf32>, tensor<f32>) -> tensor<3x2xf32>
  // CHECK: %[[C:.+]] = glm.constant {value = dense_resource<{{.*}}> : tensor<3x2xf32>}
  // CHECK-NEXT: return %[[C]]
  return %s : tensor<3x2xf32>
}
// CHECK: dialect_resources
// Transposed [[1,2,3],[4,5,6]] times 2 = [[2,8],[4,10],[6,12]]:
// CHECK: "0x40000000000000400000004100008040000020410000C04000004041"

{-#
  dialect_resources: {
    builtin: {
      w: "0x400000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// A reshape of a blob reuses the blob (no copy).
// CHECK-LABEL: func.func @reshape_reuses_blob
func.func @reshape_reuses_blob() -> tensor<6xf32> {
  %w = glm.constant {value = dense_resource<v> : tensor<2x3xf32>} : tensor<2x3xf32>
  %s = glm.constant {value = dense<[6]> : tensor<1xi64>} : tensor<1xi64>
  // CHECK: glm.constant {value = dense_resource<v> : tensor<6xf32>}
  %r = glm.reshape %w, %s : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
  return %r : tensor<6xf32>
}

{-#
  dialect_resources: {
    builtin: {
      v: "0x400000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// Ops with a non-constant operand are left alone.
// CHECK-LABEL: func.func @not_constant
func.func @not_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = glm.constant {value = dense<2.0> : tensor<2xf32>} : tensor<2xf32>
  // CHECK: glm.mul %arg0
  %y = glm.mul %x, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

// A reversed slice of a weight (ConvTranspose's flipped kernel) is
// evaluated into a new blob.
// CHECK-LABEL: func.func @reverse_slice
func.func @reverse_slice() -> tensor<2x3xf32> {
  %w = glm.constant {value = dense_resource<u> : tensor<2x3xf32>} : tensor<2x3xf32>
  %s = glm.constant {value = dense<[-1]> : tensor<1xi64>} : tensor<1xi64>
  %e = glm.constant {value = dense<[-9223372036854775808]> : tensor<1xi64>} : tensor<1xi64>
  %a = glm.constant {value = dense<[1]> : tensor<1xi64>} : tensor<1xi64>
  // CHECK: %[[C:.+]] = glm.constant {value = dense_resource<{{.*}}> : tensor<2x3xf32>}
  // CHECK-NEXT: return %[[C]]
  %r = glm.slice %w, %s, %e, %a, %s {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<2x3xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
// [[1,2,3],[4,5,6]] reversed along dim 1 = [[3,2,1],[6,5,4]]:
// CHECK: "0x4000000000004040000000400000803F0000C0400000A04000008040"

{-#
  dialect_resources: {
    builtin: {
      u: "0x400000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}
