// RUN: glm-opt %s -glm-trim-channels -canonicalize -split-input-file | FileCheck %s

// Channel 1 of the first conv was pruned: it goes from the producer's
// weights and bias, the per-channel constant of the multiply, and the
// consumer's input weights; every type is re-inferred.
// CHECK-LABEL: func.func @chain
// CHECK-DAG: %[[W2:.*]] = glm.constant {value = dense_resource<{{.*}}> : tensor<1x2x1x1xf32>}
// CHECK-DAG: %[[S:.*]] = glm.constant {value = dense_resource<{{.*}}> : tensor<2x1x1xf32>}
// CHECK-DAG: %[[B1:.*]] = glm.constant {value = dense_resource<{{.*}}> : tensor<2xf32>}
// CHECK-DAG: %[[W1:.*]] = glm.constant {value = dense_resource<{{.*}}> : tensor<2x1x1x1xf32>}
// CHECK: %[[C:.*]] = glm.conv %arg0, %[[W1]], %[[B1]] : {{.*}} -> tensor<1x2x2x2xf32>
// CHECK-NOT: glm.pruned_channels
// CHECK: %[[M:.*]] = glm.mul %[[C]], %[[S]] : {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: glm.conv %[[M]], %[[W2]] : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
func.func @chain(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> attributes {glm.entry} {
  %w1 = glm.constant {value = dense<[[[[1.0]]], [[[0.0]]], [[[2.0]]]]> : tensor<3x1x1x1xf32>} : tensor<3x1x1x1xf32>
  %b1 = glm.constant {value = dense<[1.0, 0.0, 3.0]> : tensor<3xf32>} : tensor<3xf32>
  %c1 = glm.conv %x, %w1, %b1 {glm.pruned_channels = array<i64: 1>} : (tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<1x3x2x2xf32>
  %s = glm.constant {value = dense<[[[4.0]], [[5.0]], [[6.0]]]> : tensor<3x1x1xf32>} : tensor<3x1x1xf32>
  %m = glm.mul %c1, %s : (tensor<1x3x2x2xf32>, tensor<3x1x1xf32>) -> tensor<1x3x2x2xf32>
  %w2 = glm.constant {value = dense<[[[[7.0]], [[8.0]], [[9.0]]]]> : tensor<1x3x1x1xf32>} : tensor<1x3x1x1xf32>
  %c2 = glm.conv %m, %w2 : (tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %c2 : tensor<1x1x2x2xf32>
}
// Kept values: w1 [1, 2], b1 [1, 3], the multiplier [4, 6] (its constant
// is [3,1,1], trimmed at dim 0), w2 [7, 9].
// CHECK-DAG: "0x400000000000803F00000040"
// CHECK-DAG: "0x400000000000803F00004040"
// CHECK-DAG: "0x40000000000080400000C040"
// CHECK-DAG: "0x400000000000E04000001041"

// -----

// A depthwise conv passes channels through: its weights, bias and group
// count shrink with them. The consumer after a concat loses the channel at
// its offset in the concatenation (2 + 0).
// CHECK-LABEL: func.func @depthwise_concat
// CHECK: glm.conv %arg0, %{{.*}} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
// CHECK: glm.conv %{{.*}}, %{{.*}}, %{{.*}} {pads = [1, 1, 1, 1]} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>, tensor<1xf32>) -> tensor<1x1x4x4xf32>
// CHECK: glm.concat {{.*}} -> tensor<1x3x4x4xf32>
// CHECK: glm.conv {{.*}} : (tensor<1x3x4x4xf32>, tensor<1x3x1x1xf32>) -> tensor<1x1x4x4xf32>
func.func @depthwise_concat(%x: tensor<1x1x4x4xf32>, %y: tensor<1x2x4x4xf32>) -> tensor<1x1x4x4xf32> attributes {glm.entry} {
  %w1 = glm.constant {value = dense<[[[[0.0]]], [[[1.0]]]]> : tensor<2x1x1x1xf32>} : tensor<2x1x1x1xf32>
  %c1 = glm.conv %x, %w1 {glm.pruned_channels = array<i64: 0>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %wd = glm.constant {value = dense<1.0> : tensor<2x1x3x3xf32>} : tensor<2x1x3x3xf32>
  %bd = glm.constant {value = dense<[0.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
  %d = glm.conv %c1, %wd, %bd {group = 2 : i64, pads = [1, 1, 1, 1]} : (tensor<1x2x4x4xf32>, tensor<2x1x3x3xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %cat = glm.concat %y, %d {axis = 1 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32>
  %w2 = glm.constant {value = dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]]]]> : tensor<1x4x1x1xf32>} : tensor<1x4x1x1xf32>
  %c2 = glm.conv %cat, %w2 : (tensor<1x4x4x4xf32>, tensor<1x4x1x1xf32>) -> tensor<1x1x4x4xf32>
  return %c2 : tensor<1x1x4x4xf32>
}
// The consumer keeps the weights of concat channels 0, 1 and 3.
// CHECK: "0x400000000000803F0000004000008040"
