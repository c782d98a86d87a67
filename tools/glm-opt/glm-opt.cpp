//===- glm-opt.cpp - run glm passes and pipelines alone -------------------===//

#include "compiler/pipeline/Registration.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  glmc::pipeline::registerDialects(registry);
  glmc::pipeline::registerPassesAndPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "glm-opt: glmc's pass driver\n", registry));
}
