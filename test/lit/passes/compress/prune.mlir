// RUN: glm-opt %s -glm-prune="ratio=0.5" -split-input-file | FileCheck %s
// RUN: glm-opt %s -glm-prune="ratio=0.5 mode=unstructured" -split-input-file | FileCheck %s --check-prefix=UNSTR
// RUN: glm-opt %s -glm-prune="ratio=0.5 mode=2:4" -split-input-file | FileCheck %s --check-prefix=NM
// RUN: glm-opt %s -glm-prune="ratio=0.5 exclude=first" -split-input-file | FileCheck %s --check-prefix=EXCL

// A conv chain: 4 channels with L1 norms 1, 0.1, 2, 0.2; the prunable
// parameters are 4 + 4, removing a channel takes one weight from each conv,
// so ratio 0.5 removes the two weakest channels, 1 and 3, and zeroes them.
// The last conv's channels reach the model output and are kept.
// CHECK-LABEL: func.func @chain
// CHECK: %[[W:.*]] = glm.constant {value = dense_resource<pruned> : tensor<4x1x1x1xf32>}
// CHECK: glm.conv %arg0, %[[W]] {glm.pruned_channels = array<i64: 1, 3>}
// CHECK: glm.conv {{.*}} {glm.channels_kept = "reaches a model output"}
// UNSTR-LABEL: func.func @chain
// UNSTR: glm.conv %arg0, %{{.*}} {glm.sparsity = 5.000000e-01 : f64}
// EXCL-LABEL: func.func @chain
// EXCL: glm.conv %arg0, %{{.*}} {glm.channels_kept = "excluded by --exclude"}
func.func @chain(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> attributes {glm.entry} {
  %w1 = glm.constant {value = dense<[[[[1.0]]], [[[0.1]]], [[[2.0]]], [[[-0.2]]]]> : tensor<4x1x1x1xf32>} : tensor<4x1x1x1xf32>
  %c1 = glm.conv %x, %w1 : (tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32>) -> tensor<1x4x2x2xf32> loc("first")
  %r = glm.relu %c1 : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %w2 = glm.constant {value = dense<1.0> : tensor<1x4x1x1xf32>} : tensor<1x4x1x1xf32>
  %c2 = glm.conv %r, %w2 : (tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %c2 : tensor<1x1x2x2xf32>
}
// The masked weights: channels 1 and 3 zero.
// CHECK: pruned: "0x40000000
// CHECK-SAME: 0000803F000000000000004000000000"

// -----

// Residual: both producers of the added channels lose the same channels,
// chosen by their summed (per-producer normalised) norms.
// CHECK-LABEL: func.func @residual
// CHECK: glm.conv %arg0, %{{.*}}, %{{.*}} {glm.pruned_channels = array<i64: 0>}
// CHECK: glm.conv %arg0, %{{.*}} {glm.pruned_channels = array<i64: 0>}
// CHECK: glm.add
func.func @residual(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> attributes {glm.entry} {
  %wa = glm.constant {value = dense<[[[[0.1]]], [[[1.0]]]]> : tensor<2x1x1x1xf32>} : tensor<2x1x1x1xf32>
  %ba = glm.constant {value = dense<[0.5, 0.5]> : tensor<2xf32>} : tensor<2xf32>
  %wb = glm.constant {value = dense<[[[[0.3]]], [[[0.2]]]]> : tensor<2x1x1x1xf32>} : tensor<2x1x1x1xf32>
  %a = glm.conv %x, %wa, %ba : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %b = glm.conv %x, %wb : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %s = glm.add %a, %b : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %w = glm.constant {value = dense<1.0> : tensor<1x2x1x1xf32>} : tensor<1x2x1x1xf32>
  %y = glm.conv %s, %w : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// sigmoid(0) = 0.5: a zeroed channel would not stay zero, so the group is
// kept and says why.
// CHECK-LABEL: func.func @not_zero_preserving
// CHECK: glm.conv %arg0, %{{.*}} {glm.channels_kept = "an op on these channels does not map zero to zero"}
func.func @not_zero_preserving(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> attributes {glm.entry} {
  %w1 = glm.constant {value = dense<[[[[1.0]]], [[[0.1]]]]> : tensor<2x1x1x1xf32>} : tensor<2x1x1x1xf32>
  %c1 = glm.conv %x, %w1 : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %s = glm.sigmoid %c1 : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %w2 = glm.constant {value = dense<1.0> : tensor<1x2x1x1xf32>} : tensor<1x2x1x1xf32>
  %c2 = glm.conv %s, %w2 : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %c2 : tensor<1x1x2x2xf32>
}

// -----

// 2:4 along the contraction dim (rows of a matmul weight): in each column
// and each run of 4 rows the two smallest magnitudes become zero.
// NM-LABEL: func.func @two_four
// NM: glm.mat_mul %arg0, %{{.*}} {glm.sparsity = 5.000000e-01 : f64}
// NM: pruned: "0x40000000
// NM-SAME: 0000000000000000000000000000C0C0
// NM-SAME: 0000404000000000000080C00000E040"
func.func @two_four(%x: tensor<2x4xf32>) -> tensor<2x2xf32> attributes {glm.entry} {
  // Column 0: [1, 2, 3, -4] keeps 3, -4. Column 1: [5, -6, 0.5, 7] keeps -6, 7.
  %w = glm.constant {value = dense<[[1.0, 5.0], [2.0, -6.0], [3.0, 0.5], [-4.0, 7.0]]> : tensor<4x2xf32>} : tensor<4x2xf32>
  %y = glm.mat_mul %x, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

// x + 1 would turn a zeroed channel into ones: kept.
// CHECK-LABEL: func.func @add_scalar
// CHECK: glm.conv %arg0, %{{.*}} {glm.channels_kept = "an op on these channels does not map zero to zero"}
func.func @add_scalar(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> attributes {glm.entry} {
  %w1 = glm.constant {value = dense<[[[[1.0]]], [[[0.1]]]]> : tensor<2x1x1x1xf32>} : tensor<2x1x1x1xf32>
  %c1 = glm.conv %x, %w1 : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %one = glm.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %s = glm.add %c1, %one : (tensor<1x2x2x2xf32>, tensor<f32>) -> tensor<1x2x2x2xf32>
  %w2 = glm.constant {value = dense<1.0> : tensor<1x2x1x1xf32>} : tensor<1x2x1x1xf32>
  %c2 = glm.conv %s, %w2 : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %c2 : tensor<1x1x2x2xf32>
}

// -----

// A grouped conv (group 2, not depthwise) ties each output channel to the
// input channels of its group: the channels it reads and the ones it
// writes are kept (RegNet's group convs once got a channel count no group
// divides).
// CHECK-LABEL: func.func @grouped
// CHECK: glm.conv %arg0, %{{.*}} {glm.channels_kept = "grouped convolution (group > 1, not depthwise)"}
// CHECK-NOT: glm.pruned_channels
// CHECK: glm.conv %{{.*}} {group = 2 : i64}
// CHECK-NOT: glm.pruned_channels
// CHECK: return
func.func @grouped(%x: tensor<1x2x2x2xf32>) -> tensor<1x1x2x2xf32> attributes {glm.entry} {
  %w1 = glm.constant {value = dense<[[[[1.0]], [[0.5]]], [[[0.1]], [[0.2]]], [[[2.0]], [[1.0]]], [[[-0.2]], [[0.3]]]]> : tensor<4x2x1x1xf32>} : tensor<4x2x1x1xf32>
  %c1 = glm.conv %x, %w1 : (tensor<1x2x2x2xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x2x2xf32>
  %r = glm.relu %c1 : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %w2 = glm.constant {value = dense<1.0> : tensor<4x2x1x1xf32>} : tensor<4x2x1x1xf32>
  %c2 = glm.conv %r, %w2 {group = 2 : i64} : (tensor<1x4x2x2xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x2x2xf32>
  %r2 = glm.relu %c2 : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %w3 = glm.constant {value = dense<1.0> : tensor<1x4x1x1xf32>} : tensor<1x4x1x1xf32>
  %c3 = glm.conv %r2, %w3 : (tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %c3 : tensor<1x1x2x2xf32>
}
