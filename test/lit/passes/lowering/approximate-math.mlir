// RUN: glm-opt %s -glm-approximate-math | FileCheck %s

// Transcendentals become polynomials (no libm calls, vectorizable).
// CHECK-LABEL: func.func @f
func.func @f(%x: vector<8xf32>, %y: f32) -> (vector<8xf32>, f32, f32) {
  // CHECK-NOT: math.exp
  // CHECK-NOT: math.tanh
  // CHECK-NOT: math.erf
  %0 = math.exp %x : vector<8xf32>
  %1 = math.tanh %y : f32
  %2 = math.erf %y : f32
  return %0, %1, %2 : vector<8xf32>, f32, f32
}
// CHECK: arith.mulf
