//===- Driver.cpp - one compilation, from options to artifact -------------===//

#include "compiler/driver/Driver.h"

#include "compiler/driver/PruneConfig.h"

#include "compiler/calibrate/Evaluate.h"
#include "compiler/calibrate/Statistics.h"
#include "compiler/codegen/LLVMCodegen.h"
#include "compiler/importer/Exporter.h"
#include "compiler/importer/Importer.h"
#include "compiler/package/Artifact.h"
#include "compiler/package/Report.h"
#include "compiler/package/Weights.h"
#include "compiler/pipeline/Pipeline.h"
#include "compiler/pipeline/Registration.h"
#include "compiler/pipeline/Targets.h"
#include "passes/Passes.h"
#include "runtime/include/glmrt/artifact_abi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>

using namespace mlir;
using namespace glmc;
using namespace glmc::driver;
using pipeline::EmitKind;

namespace {

constexpr const char *kGlmcVersion = "0.1.0";

/// The file and ONNX node a location points at.
void describeLocation(Location loc, std::string &file, std::string &node) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (node.empty())
      node = name.getName().str();
    describeLocation(name.getChildLoc(), file, node);
  } else if (auto flc = dyn_cast<FileLineColLoc>(loc)) {
    if (file.empty())
      file = flc.getFilename().str();
  } else if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location l : fused.getLocations())
      describeLocation(l, file, node);
  } else if (auto cs = dyn_cast<CallSiteLoc>(loc)) {
    describeLocation(cs.getCallee(), file, node);
  }
}

/// Prints "glmc: error: model.onnx: node 'conv1': message" lines.
class DiagnosticPrinter {
public:
  DiagnosticPrinter(MLIRContext &ctx, llvm::raw_ostream &os) : os(os) {
    id = ctx.getDiagEngine().registerHandler([this](Diagnostic &d) { print(d); });
    this->ctx = &ctx;
  }
  ~DiagnosticPrinter() { ctx->getDiagEngine().eraseHandler(id); }
  unsigned errors = 0;

private:
  void print(Diagnostic &d, bool isNote = false) {
    const char *sev = isNote ? "note" : d.getSeverity() == DiagnosticSeverity::Error ? "error"
                                       : d.getSeverity() == DiagnosticSeverity::Warning ? "warning"
                                                                                        : "remark";
    if (d.getSeverity() == DiagnosticSeverity::Error && !isNote)
      ++errors;
    std::string file, node;
    describeLocation(d.getLocation(), file, node);
    std::string line = std::string("glmc: ") + sev + ": ";
    if (!file.empty())
      line += file + ": ";
    if (!node.empty())
      line += "node '" + node + "': ";
    line += d.str();
    // A pass run once per --config schedule step says the same thing again.
    if (d.getSeverity() != DiagnosticSeverity::Error && !isNote && !printed.insert(line).second)
      return;
    os << line << "\n";
    for (Diagnostic &note : d.getNotes()) {
      // MLIR's generic dump of the failing op is for compiler developers.
      if (StringRef(note.str()).starts_with("see current operation"))
        continue;
      print(note, true);
    }
  }
  llvm::raw_ostream &os;
  MLIRContext *ctx;
  DiagnosticEngine::HandlerID id;
  llvm::StringSet<> printed;
};

/// Phase messages on a terminal.
class Progress {
public:
  Progress(llvm::raw_ostream &os, bool enabled) : os(os), enabled(enabled) {}
  void phase(llvm::StringRef what) {
    if (!enabled)
      return;
    ++step;
    os << "[" << step << "] " << what << "\n";
    os.flush();
  }
  /// "    calibration sample 12/64", rewritten in place.
  void counter(llvm::StringRef what, size_t done, size_t total) {
    if (!enabled)
      return;
    os << "\r    " << what << " " << done << "/" << total;
    if (done == total)
      os << "\n";
    os.flush();
  }

private:
  llvm::raw_ostream &os;
  bool enabled;
  unsigned step = 0;
};

package::TensorSpec tensorSpec(Type type, Attribute nameAttr, size_t index, bool isInput,
                               Attribute symbols = {}) {
  package::TensorSpec s;
  auto name = dyn_cast_or_null<StringAttr>(nameAttr);
  s.name = name ? name.str() : (isInput ? "input" : "output") + std::to_string(index);
  auto t = cast<RankedTensorType>(type);
  std::string et;
  llvm::raw_string_ostream(et) << t.getElementType();
  s.dtype = package::dtypeFromName(et);
  for (int64_t d : t.getShape())
    s.dims.push_back(ShapedType::isDynamic(d) ? -1 : d);
  // Dynamic dims the model needs equal (glm-bind-input-dims): -2 - class.
  if (auto sym = dyn_cast_or_null<DenseI64ArrayAttr>(symbols))
    for (auto [k, c] : llvm::enumerate(sym.asArrayRef()))
      if (c >= 0 && k < s.dims.size() && s.dims[k] < 0)
        s.dims[k] = -2 - c;
  return s;
}

/// Writes `bytes` to `path` ("-": stdout) through a temporary in the same
/// folder renamed over it: a failed or killed glmc never leaves a partial
/// file or touches an existing one (model.so is linked the same way).
bool writeFile(const std::string &path, llvm::StringRef bytes, llvm::raw_ostream &errs) {
  auto fail = [&](std::error_code ec) {
    errs << "glmc: error: cannot write " << path << ": " << ec.message() << "\n";
    return false;
  };
  if (path == "-") {
    llvm::outs() << bytes;
    llvm::outs().flush();
    return true;
  }
  int fd = -1;
  llvm::SmallString<256> tmp;
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(path + ".tmp-glmc-%%%%%%", fd, tmp))
    return fail(ec);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << bytes;
    os.close();
    if (os.has_error()) {
      std::error_code ec = os.error();
      os.clear_error();
      llvm::sys::fs::remove(tmp);
      return fail(ec);
    }
  }
  // createUniqueFile makes the file 0600; give it what a new file gets.
  llvm::sys::fs::setPermissions(tmp, static_cast<llvm::sys::fs::perms>(0666 & ~llvm::sys::fs::getUmask()));
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    return fail(ec);
  }
  return true;
}

std::string printModule(ModuleOp module) {
  std::string s;
  llvm::raw_string_ostream os(s);
  module.print(os);
  return s;
}


/// The signature of the module's entry function (before lowering changes it).
bool entrySpecOf(ModuleOp module, llvm::StringRef inputPath, package::EntrySpec &entry,
                 llvm::raw_ostream &errs) {
  entry.name = "main";
  entry.symbol = "glm_entry_main";
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func->hasAttr("glm.entry"))
      continue;
    FunctionType ft = func.getFunctionType();
    for (unsigned i = 0; i < ft.getNumInputs(); ++i) {
      if (!isa<RankedTensorType>(ft.getInput(i))) {
        emitError(func.getLoc()) << "input " << i << " has no rank";
        return false;
      }
      entry.inputs.push_back(tensorSpec(ft.getInput(i), func.getArgAttr(i, "glm.name"), i, true,
                                        func.getArgAttr(i, "glm.dim_symbols")));
    }
    for (unsigned i = 0; i < ft.getNumResults(); ++i) {
      if (!isa<RankedTensorType>(ft.getResult(i))) {
        emitError(func.getLoc()) << "output " << i
                                 << " has no known rank after shape inference; glmc needs ranked "
                                    "outputs";
        return false;
      }
      entry.outputs.push_back(tensorSpec(ft.getResult(i), func.getResultAttr(i, "glm.name"), i, false));
    }
  }
  for (auto *list : {&entry.inputs, &entry.outputs})
    for (const package::TensorSpec &t : *list) {
      if (t.dtype == GLM_DTYPE_INVALID) {
        errs << "glmc: error: " << inputPath << ": tensor '" << t.name
             << "' has an element type the artifact ABI cannot carry\n";
        return false;
      }
      if (t.dims.size() > GLM_ABI_MAX_RANK) {
        errs << "glmc: error: " << inputPath << ": tensor '" << t.name << "' has rank "
             << t.dims.size() << "; the artifact ABI allows up to " << GLM_ABI_MAX_RANK << "\n";
        return false;
      }
    }
  return true;
}

/// glm on tensors -> LLVM dialect for `target`.
LogicalResult lowerModule(ModuleOp module, const pipeline::TargetInfo &target,
                          bool profile = false) {
  PassManager pm(module.getContext());
  pipeline::buildLoweringPipeline(pm, target, profile);
  return pm.run(module);
}

/// The layer table glm-insert-profile-marks left on the lowered module
/// (empty without --profile).
std::vector<package::ProfileLayerSpec> profileLayersOf(ModuleOp module) {
  std::vector<package::ProfileLayerSpec> layers;
  auto table = module->getAttrOfType<ArrayAttr>("glm.profile_table");
  if (!table)
    return layers;
  for (Attribute a : table) {
    auto row = cast<ArrayAttr>(a);
    package::ProfileLayerSpec l;
    l.name = cast<StringAttr>(row[0]).str();
    l.op = cast<StringAttr>(row[1]).str();
    l.shape = cast<StringAttr>(row[2]).str();
    l.flops = cast<IntegerAttr>(row[3]).getInt();
    l.bytes = cast<IntegerAttr>(row[4]).getInt();
    layers.push_back(std::move(l));
  }
  return layers;
}

/// Puts the weights laid out by glm-outline-weights where `placement` says
/// and fills spec's weights fields: the side file or the weights object at
/// `path` (for External, an empty path only computes the checksum), or the
/// module itself (`storage`, the debugging emit kinds). This runs before
/// code generation because the header carries the checksum; the bytes go
/// straight from the constants into the file (package/Weights.h).
bool placeWeights(const package::WeightsBlob &blob, package::ArtifactSpec::Weights placement,
                  const std::string &path, package::ArtifactSpec &spec, std::vector<char> &storage,
                  std::string &error) {
  using Weights = package::ArtifactSpec::Weights;
  spec.placement = placement;
  spec.weightsSize = blob.size;
  if (placement == Weights::InModule) {
    storage = blob.materialize();
    spec.weights = storage;
    return true;
  }
  if (placement == Weights::Object)
    return package::writeWeightsObject(blob, spec.target.arch, path, spec.weightsChecksum, error);
  if (path.empty()) {
    spec.weightsChecksum = package::writeWeights(blob, llvm::nulls());
    return true;
  }
  return package::writeWeightsFile(blob, path, spec.weightsChecksum, error);
}

/// LLVM dialect -> optimised LLVM IR with the artifact globals (the weights
/// placed already, placeWeights). Fills spec.metadataJson (`meta` plus the
/// fields every artifact has).
std::unique_ptr<llvm::Module> translateModule(ModuleOp module, package::ArtifactSpec &spec,
                                              llvm::json::Object meta, int optLevel,
                                              llvm::LLVMContext &llvmContext,
                                              llvm::raw_ostream &errs) {
  std::string error;
  std::unique_ptr<llvm::Module> llvmModule =
      codegen::translateToLLVMIR(module, llvmContext, spec.target, error);
  if (!llvmModule) {
    errs << "glmc: error: " << error << "\n";
    return nullptr;
  }
  meta["format"] = "glmc-artifact";
  meta["glmc_version"] = kGlmcVersion;
  meta["model"] = spec.modelName;
  meta["target"] = spec.target.name;
  meta["triple"] = spec.target.triple;
  meta["cpu"] = spec.target.cpu;
  meta["cpu_features"] = pipeline::describeCpuFeatures(spec.target.cpuFeatures);
  meta["weights_bytes"] = (int64_t)(spec.placement == package::ArtifactSpec::Weights::InModule
                                         ? spec.weights.size()
                                         : spec.weightsSize);
  spec.metadataJson.clear();
  llvm::raw_string_ostream(spec.metadataJson) << llvm::json::Value(std::move(meta));
  if (!package::addArtifactGlobals(*llvmModule, spec, error) ||
      !codegen::optimizeModule(*llvmModule, spec.target, optLevel, error)) {
    errs << "glmc: error: " << error << "\n";
    return nullptr;
  }
  return llvmModule;
}

/// Builds `module` (a copy, lowered in place) for this machine into a
/// temporary model.so and loads it (calibration, --eval).
std::unique_ptr<calibrate::HostModel> buildHostModel(ModuleOp module, llvm::StringRef name,
                                                     llvm::raw_ostream &errs, std::string &error) {
  auto host = pipeline::lookupTarget("host");
  package::EntrySpec entry;
  PassManager pm(module.getContext());
  pipeline::buildInputDimsPipeline(pm);
  if (!host || failed(pm.run(module)) || !entrySpecOf(module, name, entry, errs) ||
      failed(lowerModule(module, *host))) {
    error = "cannot build the model for this machine";
    return nullptr;
  }
  package::ArtifactSpec spec;
  spec.modelName = name.str();
  spec.target = *host;
  spec.entries.push_back(entry);
  package::WeightsBlob blob;
  llvm::SmallString<128> weightsObject;
  std::vector<char> storage;
  if (!package::collectWeights(module, blob, error) ||
      llvm::sys::fs::createTemporaryFile("glmc-weights", "o", weightsObject)) {
    if (error.empty())
      error = "cannot create a temporary file";
    return nullptr;
  }
  llvm::FileRemover removeWeights(weightsObject);
  if (!placeWeights(blob, package::ArtifactSpec::Weights::Object, std::string(weightsObject), spec,
                    storage, error))
    return nullptr;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModule(module, spec, llvm::json::Object(), /*optLevel=*/2, llvmContext, errs);
  llvm::SmallVector<char, 0> object;
  if (!llvmModule ||
      !codegen::emitObject(*llvmModule, *host, /*optLevel=*/2, false, object, error)) {
    if (error.empty())
      error = "cannot build the model for this machine";
    return nullptr;
  }
  llvm::SmallString<128> path;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("glmc-" + name, "so", path)) {
    error = "cannot create a temporary file: " + ec.message();
    return nullptr;
  }
  std::unique_ptr<calibrate::HostModel> model;
  if (package::linkSharedObject(object, std::string(path), *host, error,
                               {std::string(weightsObject)}))
    model = calibrate::HostModel::load(std::string(path), error);
  llvm::sys::fs::remove(path);
  return model;
}

llvm::json::Object pruneOptionsJSON(const pipeline::CompileOptions::Prune &p) {
  llvm::json::Array exclude;
  for (const std::string &e : p.exclude)
    exclude.push_back(e);
  llvm::json::Array layerRatios, schedule;
  for (const std::string &l : p.layerRatios)
    layerRatios.push_back(l);
  for (double s : p.schedule)
    schedule.push_back(s);
  return llvm::json::Object{{"prune", p.ratio},
                            {"layer_sparsity", std::move(layerRatios)},
                            {"schedule", std::move(schedule)},
                            {"prune_mode", p.mode},
                            {"prune_criterion", p.criterion},
                            {"prune_alloc", p.alloc},
                            {"exclude", std::move(exclude)},
                            {"reconstruct", p.reconstruct}};
}

/// Writes the report as HTML when the path ends in .html/.htm, else JSON.
bool writeReport(const package::CompressionReport &report, const std::string &path,
                 llvm::raw_ostream &errs) {
  llvm::StringRef ext = llvm::sys::path::extension(path);
  if (ext.equals_insensitive(".html") || ext.equals_insensitive(".htm"))
    return writeFile(path, package::toHTML(report), errs);
  std::string json;
  llvm::raw_string_ostream os(json);
  os << llvm::formatv("{0:2}", package::toJSON(report)) << "\n";
  return writeFile(path, json, errs);
}

} // namespace

static ExitCode compileModel(const pipeline::CompileOptions &options, llvm::raw_ostream &errs,
                             bool progressEnabled, package::CompressionReport &report);

void glmc::driver::printTargets(llvm::raw_ostream &os) {
  for (const pipeline::TargetInfo &t : pipeline::getTargets()) {
    os << llvm::left_justify(t.name, 11) << " " << llvm::left_justify(t.triple, 26) << " cpu="
       << llvm::left_justify(t.cpu, 11) << " " << t.description;
    if (!t.cudaSM.empty())
      os << " [gpu " << t.cudaSM << "]";
    os << "\n";
  }
}

std::optional<double> glmc::driver::gateValue(const package::CompressionReport &r,
                                              llvm::StringRef name) {
  auto reduction = [](int64_t before, int64_t after) {
    return before > 0 ? 1.0 - double(after) / double(before) : 0.0;
  };
  if (name == "params_reduction")
    return reduction(r.before.params, r.after.params);
  if (name == "nonzero_params_reduction")
    return reduction(r.before.nonzero, r.after.nonzero);
  if (name == "bytes_reduction")
    return reduction(r.before.bytes, r.after.bytes);
  if (name == "flops_reduction")
    return reduction(r.before.flops, r.after.flops);
  if (!r.hasQuality)
    return std::nullopt;
  const package::QualityMetrics &q = r.quality;
  bool metric = !q.metricName.empty() && !std::isnan(q.metricBefore);
  if (name == "perplexity_increase" && metric && q.metricName == "perplexity" && q.metricBefore > 0)
    return q.metricAfter / q.metricBefore - 1.0;
  if (name == "accuracy_drop" && metric && q.metricName == "accuracy")
    return q.metricBefore - q.metricAfter;
  if (name == "top1_agreement")
    return q.top1Agreement;
  if (name == "logits_cosine")
    return q.cosine;
  if (name == "kl")
    return q.kl;
  if (name == "max_abs_diff")
    return q.maxAbsDiff;
  return std::nullopt;
}

std::string glmc::driver::parseGate(llvm::StringRef text, Gate &gate) {
  static const char *const kNames[] = {"perplexity_increase", "accuracy_drop", "top1_agreement",
                                       "logits_cosine", "kl", "max_abs_diff", "params_reduction",
                                       "nonzero_params_reduction", "bytes_reduction",
                                       "flops_reduction"};
  llvm::SmallVector<llvm::StringRef> words;
  text.split(words, ' ', -1, /*KeepEmpty=*/false);
  if (words.size() != 3)
    return "'" + text.str() + "' is not NAME OP NUMBER (e.g. 'perplexity_increase > 0.03')";
  if (!llvm::is_contained(kNames, words[0]))
    return "'" + words[0].str() + "' is not a gate glmc knows (" +
           llvm::join(llvm::ArrayRef<const char *>(kNames).begin(),
                      llvm::ArrayRef<const char *>(kNames).end(), ", ") + ")";
  if (!llvm::is_contained({">", ">=", "<", "<="}, words[1]))
    return "'" + words[1].str() + "' is not one of >, >=, <, <=";
  double v = 0;
  if (words[2].getAsDouble(v))
    return "'" + words[2].str() + "' is not a number";
  gate = Gate{words[0].str(), words[1].str(), v, text.str()};
  return "";
}

ExitCode glmc::driver::compile(const pipeline::CompileOptions &options, llvm::raw_ostream &errs,
                               bool progressEnabled) {
  package::CompressionReport report;
  ExitCode code = compileModel(options, errs, progressEnabled, report);
  // A failed quality gate still writes the report: it says why.
  if (code == ExitCode::CompressionConstraint && !options.reportPath.empty())
    return writeReport(report, options.reportPath, errs) ? code : ExitCode::IOError;
  if (code != ExitCode::Success || options.reportPath.empty())
    return code;
  if (options.emit == EmitKind::SharedObject || options.emit == EmitKind::StaticLib) {
    uint64_t size = 0, weightsSize = 0;
    if (!llvm::sys::fs::file_size(options.outputPath, size)) {
      if (report.externalWeights)
        (void)llvm::sys::fs::file_size(options.outputPath + ".weights", weightsSize);
      report.artifactBytes = size + weightsSize;
    }
  }
  return writeReport(report, options.reportPath, errs) ? ExitCode::Success : ExitCode::IOError;
}

static ExitCode compileModel(const pipeline::CompileOptions &options, llvm::raw_ostream &errs,
                             bool progressEnabled, package::CompressionReport &report) {
  Progress progress(errs, progressEnabled);
  auto target = pipeline::lookupTarget(options.target);
  if (!target) {
    errs << "glmc: error: unknown target '" << options.target
         << "'; glmc --print-targets lists the targets\n";
    return ExitCode::Usage;
  }
  if (!target->cudaSM.empty()) {
    errs << "glmc: error: target '" << target->name
         << "' needs CUDA code generation, which this glmc does not have yet\n";
    return ExitCode::Unavailable;
  }
  if (!llvm::sys::fs::exists(options.inputPath)) {
    errs << "glmc: error: " << options.inputPath << ": no such file\n";
    return ExitCode::IOError;
  }
  std::string modelName = options.modelName;
  if (modelName.empty())
    modelName = llvm::sys::path::stem(options.inputPath).str();

  DialectRegistry registry;
  pipeline::registerDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  context.loadAllAvailableDialects();
  DiagnosticPrinter diag(context, errs);

  // 1. Import.
  progress.phase("importing " + options.inputPath);
  importer::ImportOptions importOptions;
  importer::ImportResult imported = importer::importOnnxFile(context, options.inputPath, importOptions);
  if (!imported.module)
    return ExitCode::ModelError;
  if (!options.quiet)
    for (const std::string &w : imported.warnings)
      if (progressEnabled)
        errs << "glmc: note: " << w << "\n";
  ModuleOp module = *imported.module;
  if (options.emit == EmitKind::MLIR && options.mlirStage == "import")
    return writeFile(options.outputPath, printModule(module), errs) ? ExitCode::Success
                                                                    : ExitCode::IOError;

  // What compression did is counted from the IR at each stage.
  const bool prune = options.prune.ratio > 0;
  const bool quantize = !options.quantize.mode.empty();
  const bool compress = prune || quantize;
  const bool wantReport = compress || !options.reportPath.empty() || !options.evalDir.empty() ||
                          !options.failIf.empty();
  if (wantReport) {
    report.model = modelName;
    report.target = target->name;
    report.options = pruneOptionsJSON(options.prune);
    if (quantize) {
      report.options["quantize"] = options.quantize.mode;
      report.options["quantize_calib_method"] = options.quantize.calibMethod;
      if (options.quantize.calibMethod == "percentile")
        report.options["quantize_percentile"] = options.quantize.percentile;
    }
    if (!options.calibDir.empty())
      report.options["calib"] = options.calibDir;
    if (!options.evalDir.empty())
      report.options["eval"] = options.evalDir;
    report.imported = package::countCosts(module);
  }

  // 2. Canonicalise: fold shape subgraphs, infer shapes, exact fusions.
  progress.phase("folding shapes and constants");
  {
    PassManager pm(&context);
    pipeline::buildCanonicalPipeline(pm, options.fuse);
    if (failed(pm.run(module)))
      return ExitCode::ModelError;
  }
  if (options.emit == EmitKind::MLIR && options.mlirStage == "canonical")
    return writeFile(options.outputPath, printModule(module), errs) ? ExitCode::Success
                                                                    : ExitCode::IOError;
  if (wantReport)
    report.before = package::countCosts(module);

  // 3. Compress: calibrate, prune, trim.
  OwningOpRef<ModuleOp> uncompressed;
  if (!options.evalDir.empty())
    uncompressed = module.clone();
  // One step, or the --config schedule's steps: (re)calibrate on the model
  // as the previous step left it, prune, reconstruct, trim.
  std::unique_ptr<calibrate::DataSet> calib;
  if (compress && !options.calibDir.empty()) {
    std::string error;
    calib = calibrate::DataSet::open(options.calibDir, error);
    if (!calib) {
      errs << "glmc: error: --calib: " << error << "\n";
      return ExitCode::IOError;
    }
  }
  // Runs the model as it is now on the calibration set and attaches what
  // `what` asks for (pruning's moments, INT8 ranges) to its ops.
  auto calibrateModule = [&](const std::string &phase,
                             const calibrate::StatisticsOptions &what) -> bool {
    progress.phase(phase + " on " + std::to_string(calib->size()) + " samples of " +
                   options.calibDir);
    auto build = [&](ModuleOp copy, std::string &err) {
      return buildHostModel(copy, modelName + "-calib", errs, err);
    };
    auto count = [&](size_t done, size_t total) { progress.counter("sample", done, total); };
    std::string error;
    if (failed(calibrate::collectStatistics(module, *calib, build, count, error, what))) {
      errs << "glmc: error: --calib " << options.calibDir << ": " << error << "\n";
      return false;
    }
    return true;
  };
  const std::vector<double> steps = prune ? pruneSteps(options.prune) : std::vector<double>{};
  for (size_t k = 0; k < steps.size(); ++k) {
    std::string stepName =
        steps.size() > 1 ? llvm::formatv("step {0}/{1}: ", k + 1, steps.size()).str() : "";
    if (calib && !calibrateModule(stepName + "calibrating", calibrate::StatisticsOptions()))
      return ExitCode::ModelError;
    pipeline::CompileOptions::Prune step = pruneStep(options.prune, steps, k);
    progress.phase(stepName + llvm::formatv("pruning to {0:f1}% ({1}, {2}, {3} allocation)",
                                            100.0 * steps[k], step.mode, step.criterion,
                                            step.alloc)
                                  .str());
    PassManager pm(&context);
    pipeline::buildCompressionPipeline(pm, step);
    // glm-prune runs each layer as a PruneLayerAction: "layer i/n".
    context.registerActionHandler([&](llvm::function_ref<void()> work,
                                      const tracing::Action &action) {
      if (auto *layer = llvm::dyn_cast<glm::PruneLayerAction>(&action))
        progress.counter((layer->what + " layer").str(), layer->index + 1, layer->count);
      work();
    });
    LogicalResult ran = pm.run(module);
    context.registerActionHandler(nullptr);
    if (failed(ran))
      return ExitCode::ModelError;
  }
  // INT8: with --quantize, ranges calibrated on the model as pruning left
  // it; without, only the QDQ pairs a model already has (quantized
  // elsewhere, e.g. by ONNX Runtime's quantize_static) put its convolutions
  // and gemms on the int8 kernels, with the model's own scales.
  pipeline::CompileOptions::Quantize quantization = options.quantize;
  if (quantize) {
    if (!calib) {
      errs << "glmc: error: --quantize " << options.quantize.mode
           << " calibrates activation ranges and needs --calib DIR\n";
      return ExitCode::Usage;
    }
    calibrate::StatisticsOptions ranges;
    ranges.moments = false;
    ranges.ranges = true;
    if (!calibrateModule("calibrating INT8 ranges", ranges))
      return ExitCode::ModelError;
    progress.phase("quantizing to " + options.quantize.mode + " (" +
                   options.quantize.calibMethod + " ranges)");
  } else {
    quantization.mode = "qdq";
  }
  {
    PassManager pm(&context);
    pipeline::buildQuantizePipeline(pm, quantization, options.prune.exclude);
    if (failed(pm.run(module)))
      return ExitCode::ModelError;
  }
  if (wantReport) {
    report.after = package::countCosts(module);
    if (prune && options.prune.mode != "structured")
      report.notes.push_back(
          "unstructured and 2:4 pruning zero weights but keep them stored densely: they reduce "
          "nonzero parameters, not the artifact's size or latency");
  }
  if (uncompressed) {
    std::string error;
    std::unique_ptr<calibrate::DataSet> eval = calibrate::DataSet::open(options.evalDir, error);
    if (!eval) {
      errs << "glmc: error: --eval: " << error << "\n";
      return ExitCode::IOError;
    }
    progress.phase("evaluating on " + std::to_string(eval->size()) + " samples of " +
                   options.evalDir);
    OwningOpRef<ModuleOp> compressed = module.clone();
    auto before = buildHostModel(*uncompressed, modelName + "-before", errs, error);
    auto after = before ? buildHostModel(*compressed, modelName + "-after", errs, error) : nullptr;
    auto count = [&](size_t done, size_t total) { progress.counter("sample", done, total); };
    if (!after ||
        !calibrate::evaluate(*before, *after, *eval, report.quality, count, error)) {
      errs << "glmc: error: --eval " << options.evalDir << ": " << error << "\n";
      return ExitCode::ModelError;
    }
    report.hasQuality = true;
  }
  // Quality gates (--fail-if), before any output is written.
  for (const std::string &text : options.failIf) {
    Gate gate;
    if (std::string problem = parseGate(text, gate); !problem.empty()) {
      errs << "glmc: error: --fail-if " << problem << "\n";
      return ExitCode::Usage;
    }
    std::optional<double> value = gateValue(report, gate.name);
    if (!value) {
      errs << "glmc: error: --fail-if '" << text << "': " << gate.name
           << (report.hasQuality ? " is not measured for this model's task"
                                 : " needs --eval (the quality measurement)")
           << "\n";
      return ExitCode::Usage;
    }
    bool holds = gate.op == ">"    ? *value > gate.value
                 : gate.op == ">=" ? *value >= gate.value
                 : gate.op == "<"  ? *value < gate.value
                                   : *value <= gate.value;
    if (holds) {
      errs << "glmc: error: --fail-if '" << text << "' holds: " << gate.name << " = "
           << llvm::format("%.6g", *value) << "; no output written\n";
      return ExitCode::CompressionConstraint;
    }
  }
  if (options.emit == EmitKind::ONNX) {
    bool same = false;
    if (!llvm::sys::fs::equivalent(options.inputPath, options.outputPath, same) && same) {
      errs << "glmc: error: --emit=onnx would overwrite the input model " << options.inputPath
           << "; choose another -o\n";
      return ExitCode::Usage;
    }
    progress.phase("writing ONNX to " + options.outputPath);
    importer::ExportOptions exportOptions;
    exportOptions.producerVersion = kGlmcVersion;
    return succeeded(importer::exportOnnxFile(module, options.outputPath, exportOptions))
               ? ExitCode::Success
               : ExitCode::IOError;
  }
  if (options.emit == EmitKind::MLIR && options.mlirStage == "compressed")
    return writeFile(options.outputPath, printModule(module), errs) ? ExitCode::Success
                                                                    : ExitCode::IOError;

  // 4. Decoder fusions (after compression and --emit=onnx: both work on
  // the primitive ops).
  if (options.fuse) {
    progress.phase("fusing decoder ops");
    PassManager pm(&context);
    pipeline::buildDecoderFusionPipeline(pm);
    if (failed(pm.run(module)))
      return ExitCode::ModelError;
  }
  if (options.emit == EmitKind::MLIR && options.mlirStage == "fused")
    return writeFile(options.outputPath, printModule(module), errs) ? ExitCode::Success
                                                                    : ExitCode::IOError;

  // The model's signature, before lowering changes it, with the input
  // dims the compiled code needs fixed or tied.
  {
    PassManager pm(&context);
    pipeline::buildInputDimsPipeline(pm);
    if (failed(pm.run(module)))
      return ExitCode::ModelError;
  }
  package::EntrySpec entry;
  if (!entrySpecOf(module, options.inputPath, entry, errs))
    return ExitCode::ModelError;

  // 5. Lower to the LLVM dialect.
  progress.phase("lowering for " + target->name + " (" + target->cpu + ")");
  if (failed(lowerModule(module, *target, options.profile)))
    return ExitCode::ModelError;
  if (options.emit == EmitKind::MLIR)
    return writeFile(options.outputPath, printModule(module), errs) ? ExitCode::Success
                                                                    : ExitCode::IOError;

  // 6. LLVM IR, artifact globals, optimisation, object code.
  progress.phase("generating code");
  llvm::json::Object meta;
  meta["producer"] = imported.producer;
  meta["opset"] = imported.opsetVersion;
  // What shaped the code, without paths: the artifact's bytes must not
  // depend on where the model, its calibration set or the outputs are (the
  // same model and flags in another checkout give the same file). The
  // report keeps the paths.
  // The weights: embedded in model.so up to kMaxEmbeddedWeights, else (or
  // with --external-weights) in the side file <out>.weights (docs/glmc.md).
  std::string error;
  package::WeightsBlob blob;
  if (!package::collectWeights(module, blob, error)) {
    errs << "glmc: error: " << error << "\n";
    return ExitCode::Internal;
  }
  blob.fileMappings = imported.fileMappings;
  const bool packaged = options.emit == EmitKind::SharedObject || options.emit == EmitKind::StaticLib;
  bool external = options.externalWeights;
  if (!external && blob.size > package::kMaxEmbeddedWeights) {
    external = true;
    if (!options.quiet)
      errs << llvm::formatv("glmc: note: the weights take {0:f2} GB, more than glmc embeds in an "
                            "artifact (2 GiB); they go to {1}.weights as with --external-weights\n",
                            blob.size / 1e9, llvm::sys::path::filename(options.outputPath));
  }
  meta["options"] = llvm::json::Object{{"opt_level", (int64_t)options.optLevel},
                                       {"fuse", options.fuse},
                                       {"profile", options.profile},
                                       {"external_weights", external}};
  if (compress)
    meta["compression"] = package::summarize(report);
  package::ArtifactSpec spec;
  spec.modelName = modelName;
  spec.target = *target;
  spec.entries.push_back(entry);
  spec.profileLayers = profileLayersOf(module);
  spec.weightsFile = llvm::sys::path::filename(options.outputPath).str() + ".weights";
  // Written next to the output under a temporary name, renamed with the
  // artifact; a failed compilation removes it.
  std::string weightsPath;
  llvm::SmallString<128> weightsObject;
  using Weights = package::ArtifactSpec::Weights;
  Weights placement = external ? Weights::External : packaged ? Weights::Object : Weights::InModule;
  if (external && packaged) {
    weightsPath = options.outputPath + ".weights.tmp-glmc";
  } else if (placement == Weights::Object) {
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile("glmc-weights", "o", weightsObject)) {
      errs << "glmc: error: cannot create a temporary file: " << ec.message() << "\n";
      return ExitCode::IOError;
    }
    weightsPath = std::string(weightsObject);
  }
  llvm::FileRemover removeWeights(weightsPath);
  std::vector<char> storage;
  if (!placeWeights(blob, placement, weightsPath, spec, storage, error)) {
    errs << "glmc: error: " << error << "\n";
    return ExitCode::IOError;
  }
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModule(module, spec, std::move(meta), options.optLevel, llvmContext, errs);
  if (!llvmModule)
    return ExitCode::Internal;
  if (options.emit == EmitKind::LLVM) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    return writeFile(options.outputPath, text, errs) ? ExitCode::Success : ExitCode::IOError;
  }
  llvm::SmallVector<char, 0> object;
  if (!codegen::emitObject(*llvmModule, *target, options.optLevel, false, object, error)) {
    errs << "glmc: error: " << error << "\n";
    return ExitCode::Internal;
  }
  if (options.emit == EmitKind::Object)
    return writeFile(options.outputPath, llvm::StringRef(object.data(), object.size()), errs)
               ? ExitCode::Success
               : ExitCode::IOError;

  // 6. Package.
  progress.phase("linking " + options.outputPath);
  if (options.emit == EmitKind::StaticLib) {
    std::vector<std::pair<std::string, std::string>> extra;
    if (placement == Weights::Object)
      extra.emplace_back(weightsPath, "weights.o");
    if (!package::writeStaticLibrary(object, options.outputPath, error, extra)) {
      errs << "glmc: error: " << error << "\n";
      return ExitCode::IOError;
    }
  } else if (!package::linkSharedObject(object, options.outputPath, *target, error,
                                        placement == Weights::Object
                                            ? std::vector<std::string>{weightsPath}
                                            : std::vector<std::string>{})) {
    errs << "glmc: error: " << error << "\n";
    return ExitCode::Internal;
  }
  if (placement == Weights::External) {
    if (std::error_code ec = llvm::sys::fs::rename(weightsPath, options.outputPath + ".weights")) {
      errs << "glmc: error: cannot write " << options.outputPath << ".weights: " << ec.message()
           << "\n";
      return ExitCode::IOError;
    }
    removeWeights.releaseFile();
    report.externalWeights = true;
  }
  return ExitCode::Success;
}
