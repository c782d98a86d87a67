// RUN: glm-opt %s -glm-fuse-attention-mask -canonicalize -split-input-file | FileCheck %s

// The mask transformers exports (keep form): causal kv_idx <= q_pos, and'ed
// with the [b, 1, 1, t] padding mask and a true constant, expanded to
// [b, 1, s, t], where(keep, 0, lowest). Both attentions read one
// glm.attention_mask of the flattened positions and padding mask; the
// where chain is gone.
// CHECK-LABEL: func.func @keep_form
// CHECK-DAG: %[[QP:.*]] = glm.reshape %arg4, %{{.*}} : (tensor<1x1x?x1xi64>, tensor<1xi64>) -> tensor<?xi64>
// CHECK-DAG: %[[KP:.*]] = glm.reshape %arg5, %{{.*}} : (tensor<1x1x1x?xi64>, tensor<1xi64>) -> tensor<?xi64>
// CHECK-DAG: %[[KM:.*]] = glm.flatten %arg6 : (tensor<?x1x1x?xi1>) -> tensor<?x?xi1>
// CHECK: %[[M:.*]] = glm.attention_mask %[[QP]], %[[KP]], %[[KM]] {masked_value = -3.40282347E+38 : f32} : (tensor<?xi64>, tensor<?xi64>, tensor<?x?xi1>) -> tensor<?x1x?x?xf32>
// CHECK: glm.attention %arg0, %arg1, %arg2, %[[M]]
// CHECK: glm.attention %arg3, %arg1, %arg2, %[[M]]
// CHECK-NOT: glm.where
// CHECK-NOT: glm.less_or_equal
// CHECK-NOT: glm.and
// CHECK: return
func.func @keep_form(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>, %v: tensor<?x2x?x8xf32>, %q2: tensor<?x4x?x8xf32>,
                     %qpos: tensor<1x1x?x1xi64>, %kidx: tensor<1x1x1x?xi64>, %pad: tensor<?x1x1x?xi1>, %shape: tensor<4xi64>) -> (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) {
  %true = glm.constant {value = dense<true> : tensor<i1>} : tensor<i1>
  %zero = glm.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %lowest = glm.constant {value = dense<-3.40282347E+38> : tensor<f32>} : tensor<f32>
  %c = glm.less_or_equal %kidx, %qpos : (tensor<1x1x1x?xi64>, tensor<1x1x?x1xi64>) -> tensor<1x1x?x?xi1>
  %ct = glm.and %c, %true : (tensor<1x1x?x?xi1>, tensor<i1>) -> tensor<1x1x?x?xi1>
  %ce = glm.expand %ct, %shape : (tensor<1x1x?x?xi1>, tensor<4xi64>) -> tensor<?x1x?x?xi1>
  %keep = glm.and %ce, %pad : (tensor<?x1x?x?xi1>, tensor<?x1x1x?xi1>) -> tensor<?x1x?x?xi1>
  %m = glm.where %keep, %zero, %lowest : (tensor<?x1x?x?xi1>, tensor<f32>, tensor<f32>) -> tensor<?x1x?x?xf32>
  %y = glm.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x8xf32>
  %y2 = glm.attention %q2, %k, %v, %m {scale = 0.25 : f32} : (tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x8xf32>
  return %y, %y2 : tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>
}

// -----

// The hide form: or(kv_idx > q_pos, not(padding)) selects the masked value,
// here a finite -1e9 (kept as the op's masked_value).
// CHECK-LABEL: func.func @hide_form
// CHECK: %[[M:.*]] = glm.attention_mask %{{.*}}, %{{.*}}, %{{.*}} {masked_value = -1.000000e+09 : f32} : (tensor<3xi64>, tensor<5xi64>, tensor<2x5xi1>) -> tensor<2x1x3x5xf32>
// CHECK: glm.attention %arg0, %arg1, %arg2, %[[M]]
// CHECK-NOT: glm.where
// CHECK-NOT: glm.greater
// CHECK-NOT: glm.not
func.func @hide_form(%q: tensor<2x2x3x8xf32>, %k: tensor<2x2x5x8xf32>, %v: tensor<2x2x5x8xf32>,
                     %qpos: tensor<1x1x3x1xi64>, %kidx: tensor<1x1x1x5xi64>, %pad: tensor<2x1x1x5xi1>) -> tensor<2x2x3x8xf32> {
  %zero = glm.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %lowest = glm.constant {value = dense<-1.0e+09> : tensor<f32>} : tensor<f32>
  %c = glm.greater %kidx, %qpos : (tensor<1x1x1x5xi64>, tensor<1x1x3x1xi64>) -> tensor<1x1x3x5xi1>
  %np = glm.not %pad : (tensor<2x1x1x5xi1>) -> tensor<2x1x1x5xi1>
  %hide = glm.or %c, %np : (tensor<1x1x3x5xi1>, tensor<2x1x1x5xi1>) -> tensor<2x1x3x5xi1>
  %m = glm.where %hide, %lowest, %zero : (tensor<2x1x3x5xi1>, tensor<f32>, tensor<f32>) -> tensor<2x1x3x5xf32>
  %y = glm.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<2x2x3x8xf32>, tensor<2x2x5x8xf32>, tensor<2x2x5x8xf32>, tensor<2x1x3x5xf32>) -> tensor<2x2x3x8xf32>
  return %y : tensor<2x2x3x8xf32>
}

// -----

// Causal only, written q_pos >= kv_idx: no key mask, batch 1.
// CHECK-LABEL: func.func @causal_only
// CHECK: %[[M:.*]] = glm.attention_mask %{{.*}}, %{{.*}} {masked_value = -3.40282347E+38 : f32} : (tensor<3xi64>, tensor<5xi64>) -> tensor<1x1x3x5xf32>
// CHECK: glm.attention %arg0, %arg1, %arg2, %[[M]]
func.func @causal_only(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>,
                       %qpos: tensor<3x1xi64>, %kidx: tensor<5xi64>) -> tensor<1x2x3x8xf32> {
  %zero = glm.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %lowest = glm.constant {value = dense<-3.40282347E+38> : tensor<f32>} : tensor<f32>
  %c = glm.greater_or_equal %qpos, %kidx : (tensor<3x1xi64>, tensor<5xi64>) -> tensor<3x5xi1>
  %m = glm.where %c, %zero, %lowest : (tensor<3x5xi1>, tensor<f32>, tensor<f32>) -> tensor<3x5xf32>
  %y = glm.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<3x5xf32>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}

// -----

// Not fused: a sliding window adds a second comparison leaf; a masked value
// that is not "minus infinity" (-1) changes the softmax of visible keys; a
// where that no attention reads. Each keeps its materialised mask.
// CHECK-LABEL: func.func @negative
// CHECK-NOT: glm.attention_mask
// CHECK: glm.where
// CHECK: glm.attention
// CHECK: glm.where
// CHECK: glm.attention
// CHECK: glm.where
// CHECK: return
func.func @negative(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>,
                    %qpos: tensor<1x1x3x1xi64>, %kidx: tensor<1x1x1x5xi64>, %lo: tensor<1x1x3x1xi64>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x1x3x5xf32>) {
  %zero = glm.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %lowest = glm.constant {value = dense<-3.40282347E+38> : tensor<f32>} : tensor<f32>
  %minus1 = glm.constant {value = dense<-1.0> : tensor<f32>} : tensor<f32>
  %c = glm.less_or_equal %kidx, %qpos : (tensor<1x1x1x5xi64>, tensor<1x1x3x1xi64>) -> tensor<1x1x3x5xi1>
  %w = glm.greater_or_equal %kidx, %lo : (tensor<1x1x1x5xi64>, tensor<1x1x3x1xi64>) -> tensor<1x1x3x5xi1>
  %keep = glm.and %c, %w : (tensor<1x1x3x5xi1>, tensor<1x1x3x5xi1>) -> tensor<1x1x3x5xi1>
  %m = glm.where %keep, %zero, %lowest : (tensor<1x1x3x5xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x3x5xf32>
  %y = glm.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x1x3x5xf32>) -> tensor<1x2x3x8xf32>
  %m2 = glm.where %c, %zero, %minus1 : (tensor<1x1x3x5xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x3x5xf32>
  %y2 = glm.attention %q, %k, %v, %m2 {scale = 0.25 : f32} : (tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x1x3x5xf32>) -> tensor<1x2x3x8xf32>
  %m3 = glm.where %c, %zero, %lowest : (tensor<1x1x3x5xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x3x5xf32>
  return %y, %y2, %m3 : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x1x3x5xf32>
}
