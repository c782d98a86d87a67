// RUN: glm-opt %s -glm-fuse-elementwise -split-input-file | FileCheck %s

// Same-shape producer with one use: fused into one generic.
// CHECK-LABEL: func.func @fuse_same_shape
func.func @fuse_same_shape(%a: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  %e = tensor.empty() : tensor<16xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%a, %b : tensor<16xf32>, tensor<16xf32>) outs(%e : tensor<16xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<16xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%0 : tensor<16xf32>) outs(%e : tensor<16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.mulf %x, %x : f32
    linalg.yield %m : f32
  } -> tensor<16xf32>
  // CHECK: linalg.generic
  // CHECK: arith.addf
  // CHECK: arith.mulf
  // CHECK-NOT: linalg.generic
  return %1 : tensor<16xf32>
}

// -----

// A per-channel producer read through a broadcast is NOT fused: that would
// recompute the sqrt for every element instead of once per channel.
// CHECK-LABEL: func.func @keep_broadcast_producer
func.func @keep_broadcast_producer(%v: tensor<4xf32>, %x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  %e = tensor.empty() : tensor<4xf32>
  // CHECK: %[[R:.+]] = linalg.generic {{.*}} ins(%arg0 : tensor<4xf32>)
  // CHECK: math.sqrt
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%v : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = math.sqrt %a : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %e2 = tensor.empty() : tensor<4x64xf32>
  // CHECK: linalg.generic {{.*}} ins(%arg1, %[[R]] : tensor<4x64xf32>, tensor<4xf32>)
  // CHECK-NOT: math.sqrt
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %r : tensor<4x64xf32>, tensor<4xf32>) outs(%e2 : tensor<4x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
