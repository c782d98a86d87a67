// RUN: glm-opt %s -glm-prune="ratio=0.5 mode=unstructured layer-ratio=layer_a=0.25" -split-input-file | FileCheck %s --check-prefix=UNSTR
// RUN: glm-opt %s -glm-prune="ratio=0.4 layer-ratio=c1=0" -split-input-file | FileCheck %s --check-prefix=KEEP
// RUN: glm-opt %s -glm-prune="ratio=0.4 layer-ratio=c1=0.5" -split-input-file | FileCheck %s --check-prefix=FIX
// RUN: not glm-opt %s -glm-prune="ratio=0.4 layer-ratio=c1" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: glm-opt %s -glm-prune="ratio=0.5 mode=unstructured" -split-input-file --log-actions-to=- 2>&1 | FileCheck %s --check-prefix=ACTIONS

// Each layer is one glm-prune-layer action (glmc shows them as "layer i/n").
// ACTIONS: Action glm-prune-layer: pruning 1/2
// ACTIONS: Action glm-prune-layer: pruning 2/2

// Per-layer sparsity (layer-ratio PATTERN=R): the matching layer gets R and
// the others share the rest of the budget, so the total stays `ratio`:
// 16 weights at 0.25 and 16 at 0.75 make 0.5.
// UNSTR-LABEL: func.func @two
// UNSTR: glm.mat_mul %arg0, %{{.*}} {glm.sparsity = 2.500000e-01 : f64}
// UNSTR: glm.mat_mul %arg0, %{{.*}} {glm.sparsity = 7.500000e-01 : f64}
// BAD: per-layer sparsity 'c1' must be PATTERN=R with 0 <= R < 1
func.func @two(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) attributes {glm.entry} {
  %wa = glm.constant {value = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>} : tensor<4x4xf32>
  %a = glm.mat_mul %x, %wa : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32> loc("layer_a")
  %wb = glm.constant {value = dense<[[16.0, 15.0, 14.0, 13.0], [12.0, 11.0, 10.0, 9.0], [8.0, 7.0, 6.0, 5.0], [4.0, 3.0, 2.0, 1.0]]> : tensor<4x4xf32>} : tensor<4x4xf32>
  %b = glm.mat_mul %x, %wb : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32> loc("layer_b")
  return %a, %b : tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// Two channel groups of 4 (c1's and c2's outputs); removing a channel of
// either takes 5 parameters (w2's row or column and one more weight), the
// budget is 0.4 x 24 = 9.6. c1=0 keeps c1's group and takes two channels
// from c2's; c1=0.5 takes two from c1's group, which meets the budget alone.
// KEEP-LABEL: func.func @groups
// KEEP: glm.conv %arg0, %{{.*}} {glm.channels_kept = "per-layer sparsity 0"}
// KEEP: glm.conv %{{.*}}, %{{.*}} {glm.pruned_channels = array<i64: 0, 1>}
// FIX-LABEL: func.func @groups
// FIX: glm.conv %arg0, %{{.*}} {glm.pruned_channels = array<i64: 0, 1>}
// FIX: glm.conv %{{.*}}, %{{.*}} : (tensor<1x4x2x2xf32>
func.func @groups(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> attributes {glm.entry} {
  %w1 = glm.constant {value = dense<[[[[0.1]]], [[[0.2]]], [[[3.0]]], [[[4.0]]]]> : tensor<4x1x1x1xf32>} : tensor<4x1x1x1xf32>
  %c1 = glm.conv %x, %w1 : (tensor<1x1x2x2xf32>, tensor<4x1x1x1xf32>) -> tensor<1x4x2x2xf32> loc("c1")
  %r1 = glm.relu %c1 : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %w2 = glm.constant {value = dense<[[[[0.1]], [[0.1]], [[0.1]], [[0.1]]], [[[0.2]], [[0.2]], [[0.2]], [[0.2]]], [[[3.0]], [[3.0]], [[3.0]], [[3.0]]], [[[4.0]], [[4.0]], [[4.0]], [[4.0]]]]> : tensor<4x4x1x1xf32>} : tensor<4x4x1x1xf32>
  %c2 = glm.conv %r1, %w2 : (tensor<1x4x2x2xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x2x2xf32> loc("c2")
  %r2 = glm.relu %c2 : (tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
  %w3 = glm.constant {value = dense<1.0> : tensor<1x4x1x1xf32>} : tensor<1x4x1x1xf32>
  %c3 = glm.conv %r2, %w3 : (tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32>) -> tensor<1x1x2x2xf32> loc("c3")
  return %c3 : tensor<1x1x2x2xf32>
}
