// RUN: glm-opt %s -glm-fold-batchnorm -canonicalize -split-input-file | FileCheck %s

// conv → BN: weights of output channel c scaled by s[c] = scale/sqrt(var+eps),
// bias (b - mean) * s + B. scale = [2, 1], var = [3, 0] (eps 1): s = [1, 1];
// mean = [1, 2], B = [10, 20]: bias = [0-1+10, 5-2+20] = [9, 23].
// CHECK-LABEL: func.func @conv_bn
// CHECK-NOT: glm.batch_normalization
// CHECK: glm.conv %arg0, %{{.*}}, %{{.*}} {pads = [1, 1, 1, 1]}
// CHECK: folded.b_bn: "0x40000000000010410000B841"
func.func @conv_bn(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = glm.constant {value = dense<1.0> : tensor<2x1x3x3xf32>} : tensor<2x1x3x3xf32>
  %b = glm.constant {value = dense<[0.0, 5.0]> : tensor<2xf32>} : tensor<2xf32>
  %c = glm.conv %x, %w, %b {pads = [1, 1, 1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %scale = glm.constant {value = dense<[2.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %bias = glm.constant {value = dense<[10.0, 20.0]> : tensor<2xf32>} : tensor<2xf32>
  %mean = glm.constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %var = glm.constant {value = dense<[3.0, 0.0]> : tensor<2xf32>} : tensor<2xf32>
  %y = glm.batch_normalization %c, %scale, %bias, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// gemm → BN over the feature dim.
// CHECK-LABEL: func.func @gemm_bn
// CHECK-NOT: glm.batch_normalization
// CHECK: glm.gemm %arg0, %{{.*}}, %{{.*}} :
func.func @gemm_bn(%a: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %w = glm.constant {value = dense<1.0> : tensor<3x2xf32>} : tensor<3x2xf32>
  %g = glm.gemm %a, %w : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
  %s = glm.constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %z = glm.constant {value = dense<0.0> : tensor<2xf32>} : tensor<2xf32>
  %v = glm.constant {value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %y = glm.batch_normalization %g, %s, %z, %z, %v : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// BN → conv folds only when the conv has no padding (padded zeros would
// not be normalised).
// CHECK-LABEL: func.func @bn_conv_padded_kept
// CHECK: glm.batch_normalization
// CHECK: glm.conv
func.func @bn_conv_padded_kept(%x: tensor<1x2x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %s = glm.constant {value = dense<2.0> : tensor<2xf32>} : tensor<2xf32>
  %t = glm.constant {value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %bn = glm.batch_normalization %x, %s, %t, %t, %t : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %w = glm.constant {value = dense<1.0> : tensor<1x2x3x3xf32>} : tensor<1x2x3x3xf32>
  %y = glm.conv %bn, %w {pads = [1, 1, 1, 1]} : (tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @bn_conv_unpadded
// CHECK-NOT: glm.batch_normalization
// CHECK: glm.conv %arg0
func.func @bn_conv_unpadded(%x: tensor<1x2x4x4xf32>) -> tensor<1x1x2x2xf32> {
  %s = glm.constant {value = dense<2.0> : tensor<2xf32>} : tensor<2xf32>
  %t = glm.constant {value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %bn = glm.batch_normalization %x, %s, %t, %t, %t : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %w = glm.constant {value = dense<1.0> : tensor<1x2x3x3xf32>} : tensor<1x2x3x3xf32>
  %y = glm.conv %bn, %w : (tensor<1x2x4x4xf32>, tensor<1x2x3x3xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// A conv whose output has another user keeps its BN.
// CHECK-LABEL: func.func @shared_producer
// CHECK: glm.batch_normalization
func.func @shared_producer(%x: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %w = glm.constant {value = dense<1.0> : tensor<1x1x1x1xf32>} : tensor<1x1x1x1xf32>
  %c = glm.conv %x, %w : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %s = glm.constant {value = dense<2.0> : tensor<1xf32>} : tensor<1xf32>
  %y = glm.batch_normalization %c, %s, %s, %s, %s : (tensor<1x1x4x4xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
  return %y, %c : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}
