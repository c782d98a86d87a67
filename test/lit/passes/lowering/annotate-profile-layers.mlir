// RUN: glm-opt %s -glm-annotate-profile-layers | FileCheck %s

// Per ONNX node: the glm op names, the output shape, FLOPs (2 x MACs) and
// bytes of operands and results. A fused op counts under its first name
// (/conv, not /bn); ops of one node merge (/proj); dynamic dims count as 1;
// ops without a name are left out.
//   /conv: 1x4x8x8 outputs x 3x3x3 weights = 6912 MACs; x 768 + w 432 +
//          b 16 + y 1024 bytes.
//   /proj: linear 1x1x3 x K=4 = 12 MACs; (16 + 48 + 12 + 12) + reshape
//          (12 + 16 + 12) bytes.
// CHECK: module attributes {glm.profile_layers = {
// CHECK-SAME: "/conv" = ["conv", "1x4x8x8", 13824, 2240]
// CHECK-SAME: "/proj" = ["linear+reshape", "?x3", 24, 128]
// CHECK-SAME: "/relu" = ["relu", "1x4x8x8", 0, 2048]}}
// CHECK-NOT: "/bn"
func.func @main(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>,
                %s: tensor<?x?x4xf32>, %lw: tensor<4x3xf32>, %lb: tensor<3xf32>,
                %shape: tensor<2xi64>) -> (tensor<1x4x8x8xf32>, tensor<?x?x3xf32>, tensor<?x3xf32>)
    attributes {glm.entry} {
  %c = glm.conv %x, %w, %b {pads = [1, 1, 1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32> loc(fused["/conv", "/bn"])
  %r = glm.relu %c : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> loc("/relu")
  %l = glm.linear %s, %lw, %lb : (tensor<?x?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x?x3xf32> loc("/proj")
  %f = glm.reshape %l, %shape : (tensor<?x?x3xf32>, tensor<2xi64>) -> tensor<?x3xf32> loc("/proj")
  %n = glm.relu %f : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %r, %l, %n : tensor<1x4x8x8xf32>, tensor<?x?x3xf32>, tensor<?x3xf32>
}
