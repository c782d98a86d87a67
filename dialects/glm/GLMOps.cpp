//===- GLMOps.cpp - glm dialect and shared op machinery -------------------===//

#include "dialects/glm/GLMOps.h"

#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::glm;

#include "dialects/glm/GLMDialect.cpp.inc"

void GLMDialect::initialize() { registerOps(); }

void GLMDialect::registerOps() {
  addOperations<
#define GET_OP_LIST
#include "dialects/glm/GLMOps.cpp.inc"
      >();
}

Operation *GLMDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                           Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}

#define GET_OP_CLASSES
#include "dialects/glm/GLMOps.cpp.inc"
