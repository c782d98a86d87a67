// RUN: glm-opt %s -glm-lower-int8-dots="vnni=1" | FileCheck %s --check-prefix=VNNI
// RUN: glm-opt %s -glm-lower-int8-dots | FileCheck %s --check-prefix=PLAIN
// RUN: glm-opt %s -glm-lower-int8-dots="dotprod=1" | FileCheck %s --check-prefix=SDOT
// RUN: glm-opt %s -glm-lower-int8-dots="avx2=1" | FileCheck %s --check-prefix=PMADD

// With AVX-512 VNNI, 16 lanes are one vpdpbusd (LLVM takes the bytes as
// <64 x i8>: the first unsigned, the second signed).
// VNNI-LABEL: func.func @dot16
// VNNI: %[[A:.*]] = vector.bitcast %arg1 : vector<16xi32> to vector<64xi8>
// VNNI: %[[B:.*]] = vector.bitcast %arg2 : vector<16xi32> to vector<64xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%arg0, %[[A]], %[[B]]) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// Elsewhere: bytes widened (a unsigned, b signed), multiplied, summed in
// fours onto the accumulator.
// PLAIN-LABEL: func.func @dot16
// PLAIN-NOT: llvm.call_intrinsic
// PLAIN: arith.extui %{{.*}} : vector<64xi8> to vector<64xi32>
// PLAIN: arith.extsi %{{.*}} : vector<64xi8> to vector<64xi32>
// PLAIN: arith.muli
// PLAIN: vector.reduction <add>
func.func @dot16(%acc: vector<16xi32>, %a: vector<16xi32>, %b: vector<16xi32>) -> vector<16xi32> {
  %r = glm.dot4_accumulate %acc, %a, %b : vector<16xi32>
  return %r : vector<16xi32>
}

// Other widths take the vector arithmetic even with VNNI.
// VNNI-LABEL: func.func @dot4
// VNNI-NOT: llvm.call_intrinsic
// VNNI: arith.extui
func.func @dot4(%acc: vector<4xi32>, %a: vector<4xi32>, %b: vector<4xi32>) -> vector<4xi32> {
  %r = glm.dot4_accumulate %acc, %a, %b : vector<4xi32>
  return %r : vector<4xi32>
}

// int8 x int8 in 4 lanes is AArch64's sdot with dotprod.
// SDOT-LABEL: func.func @sdot4
// SDOT: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"(%arg0, %{{.*}}, %{{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// PLAIN-LABEL: func.func @sdot4
// PLAIN: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// PLAIN: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
func.func @sdot4(%acc: vector<4xi32>, %a: vector<4xi32>, %b: vector<4xi32>) -> vector<4xi32> {
  %r = glm.dot4_accumulate %acc, %a, %b {a_signed} : vector<4xi32>
  return %r : vector<4xi32>
}

// int16 pairs in 8 lanes are AVX2's vpmaddwd plus the accumulation.
// PMADD-LABEL: func.func @pairs
// PMADD: %[[P:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{.*}}, %{{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// PMADD: arith.addi %arg0, %[[P]] : vector<8xi32>
// PLAIN-LABEL: func.func @pairs
// PLAIN: arith.extsi %{{.*}} : vector<16xi16> to vector<16xi32>
// PLAIN: arith.muli
func.func @pairs(%acc: vector<8xi32>, %a: vector<8xi32>, %b: vector<8xi32>) -> vector<8xi32> {
  %r = glm.dot2_accumulate %acc, %a, %b : vector<8xi32>
  return %r : vector<8xi32>
}
