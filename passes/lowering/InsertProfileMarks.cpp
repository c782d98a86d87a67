//===- InsertProfileMarks.cpp - glm-insert-profile-marks ------------------===//
//
// One call per layer: `glm_profile_mark(id)` where the model function moves
// on to the next ONNX node, `glm_profile_mark(-1)` before it returns. The
// runtime time-stamps the marks; the layer table (module attribute
// `glm.profile_table`) says what each id is.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/ADT/MapVector.h"

#include <map>

namespace mlir::glm {
#define GEN_PASS_DEF_INSERTPROFILEMARKSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

constexpr StringLiteral kMarkFn = "glm_profile_mark";

/// Every ONNX node name in `loc`, in order, once each.
void collectNames(Location loc, SmallVectorImpl<std::string> &names) {
  if (auto n = dyn_cast<NameLoc>(loc)) {
    if (!llvm::is_contained(names, n.getName().str()))
      names.push_back(n.getName().str());
  } else if (auto f = dyn_cast<FusedLoc>(loc)) {
    for (Location l : f.getLocations())
      collectNames(l, names);
  } else if (auto c = dyn_cast<CallSiteLoc>(loc)) {
    collectNames(c.getCallee(), names);
  }
}

/// Ops that take time of their own; the others (allocations, views,
/// constants, casts) go with the layer around them.
bool doesWork(Operation *op) {
  return op->getNumRegions() > 0 || isa<CallOpInterface, memref::CopyOp>(op);
}

struct InsertProfileMarksPass : glm::impl::InsertProfileMarksPassBase<InsertProfileMarksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    // Without glm-annotate-profile-layers (e.g. glm-opt on a test) every
    // name is a layer.
    auto known = module->getAttrOfType<DictionaryAttr>("glm.profile_layers");

    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && func->hasAttr("glm.entry"))
        entries.push_back(func);
    if (entries.empty())
      return;

    OpBuilder b(ctx);
    auto i32 = b.getI32Type();
    auto markFn = module.lookupSymbol<func::FuncOp>(kMarkFn);
    if (!markFn) {
      b.setInsertionPointToEnd(module.getBody());
      markFn = func::FuncOp::create(b, module.getLoc(), kMarkFn, b.getFunctionType({i32}, {}));
      markFn.setPrivate();
    }

    // Layer name -> (id, the node names it is made of).
    llvm::MapVector<std::string, SmallVector<std::string>, std::map<std::string, unsigned>> layers;
    SymbolTable symbols(module);
    // The known node names of an op: its own first, then those of the ops
    // fused into it (nested ones, and the body of a parallel task it
    // dispatches).
    auto namesOf = [&](Operation *op) {
      SmallVector<std::string> names, parts;
      collectNames(op->getLoc(), names);
      auto addNested = [&](Operation *root) {
        root->walk([&](Operation *inner) {
          if (inner != root)
            collectNames(inner->getLoc(), names);
        });
      };
      addNested(op);
      if (auto call = dyn_cast<func::CallOp>(op))
        if (auto callee = symbols.lookup<func::FuncOp>(call.getCallee()))
          if (auto task = callee->getAttrOfType<FlatSymbolRefAttr>("glm.task"))
            if (auto body = symbols.lookup<func::FuncOp>(task.getValue()))
              addNested(body);
      for (const std::string &n : names)
        if (!known || known.get(n))
          parts.push_back(n);
      return parts;
    };
    auto idOf = [&](ArrayRef<std::string> parts) -> int32_t {
      std::string name = parts.empty() ? std::string("(model)") : llvm::join(parts, " + ");
      auto it = layers.find(name);
      if (it == layers.end())
        it = layers.insert({name, SmallVector<std::string>(parts)}).first;
      return it - layers.begin();
    };
    auto mark = [&](Operation *before, int32_t id) {
      b.setInsertionPoint(before);
      Location loc = before->getLoc();
      Value v = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(id));
      func::CallOp::create(b, loc, markFn, ValueRange{v});
    };

    // Consecutive ops that share a node are one layer (a convolution's
    // im2col nest and its matmul with the fused epilogue); ops without a
    // node of their own go with the layer before them.
    struct Group {
      SmallVector<std::string> names;
      Operation *first;
    };
    for (func::FuncOp func : entries) {
      for (Block &block : func.getBody()) {
        SmallVector<Group> groups;
        for (Operation &op : block.without_terminator()) {
          if (!doesWork(&op))
            continue;
          SmallVector<std::string> names = namesOf(&op);
          if (!groups.empty() &&
              (names.empty() || llvm::any_of(names, [&](const std::string &n) {
                 return llvm::is_contained(groups.back().names, n);
               }))) {
            for (std::string &n : names)
              if (!llvm::is_contained(groups.back().names, n))
                groups.back().names.push_back(std::move(n));
            continue;
          }
          groups.push_back({std::move(names), &op});
        }
        // The first layer starts with the block, so that the allocations
        // before its first loop count in it rather than nowhere.
        if (!groups.empty() && &block == &func.getBody().front())
          groups.front().first = &block.front();
        std::optional<int32_t> current;
        for (Group &g : groups) {
          int32_t id = idOf(g.names);
          if (id != current)
            mark(g.first, id);
          current = id;
        }
        if (block.mightHaveTerminator() && isa<func::ReturnOp>(block.getTerminator()))
          mark(block.getTerminator(), -1);
      }
    }

    // The table, indexed by id.
    SmallVector<Attribute> table;
    for (auto &[name, parts] : layers) {
      SmallVector<std::string> ops;
      std::string shape;
      int64_t flops = 0, bytes = 0;
      for (const std::string &part : parts) {
        auto info = known ? known.getAs<ArrayAttr>(part) : ArrayAttr();
        if (!info || info.size() != 4)
          continue;
        for (StringRef o : llvm::split(cast<StringAttr>(info[0]).getValue(), '+'))
          if (!o.empty() && !llvm::is_contained(ops, o.str()))
            ops.push_back(o.str());
        shape = cast<StringAttr>(info[1]).str();
        flops += cast<IntegerAttr>(info[2]).getInt();
        bytes += cast<IntegerAttr>(info[3]).getInt();
      }
      table.push_back(b.getArrayAttr({b.getStringAttr(name), b.getStringAttr(llvm::join(ops, "+")),
                                      b.getStringAttr(shape), b.getI64IntegerAttr(flops),
                                      b.getI64IntegerAttr(bytes)}));
    }
    module->setAttr("glm.profile_table", b.getArrayAttr(table));
  }
};

} // namespace
