//===- DataSet.cpp - calibration and evaluation sets ----------------------===//

#include "compiler/calibrate/DataSet.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstdio>

using namespace glmc::calibrate;

namespace {

/// A relative path inside the set: no absolute paths, no "..".
bool isSafeRelative(llvm::StringRef p) {
  if (p.empty() || llvm::sys::path::is_absolute(p))
    return false;
  for (auto it = llvm::sys::path::begin(p), e = llvm::sys::path::end(p); it != e; ++it)
    if (*it == "..")
      return false;
  return true;
}

std::string samplePath(const std::string &root, const std::string &dir, size_t i) {
  llvm::SmallString<256> p(root);
  char name[32];
  snprintf(name, sizeof(name), "%06zu.npy", i);
  llvm::sys::path::append(p, dir, name);
  return std::string(p);
}

} // namespace

std::unique_ptr<DataSet> DataSet::open(const std::string &dir, std::string &error) {
  llvm::SmallString<256> manifestPath(dir);
  llvm::sys::path::append(manifestPath, "manifest.json");
  auto buffer = llvm::MemoryBuffer::getFile(manifestPath);
  if (!buffer) {
    error = dir + ": no manifest.json (a calibration/evaluation set is a directory in the "
                  "glmc-npy-dir-v1 layout, see docs/compression.md)";
    return nullptr;
  }
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse((*buffer)->getBuffer());
  if (!parsed) {
    error = std::string(manifestPath) + ": " + llvm::toString(parsed.takeError());
    return nullptr;
  }
  const llvm::json::Object *m = parsed->getAsObject();
  auto fail = [&](const std::string &what) {
    error = std::string(manifestPath) + ": " + what;
    return nullptr;
  };
  if (!m)
    return fail("not a JSON object");
  if (m->getString("format") != "glmc-npy-dir-v1")
    return fail("\"format\" must be \"glmc-npy-dir-v1\"");
  auto ds = std::make_unique<DataSet>();
  ds->root = dir;
  std::optional<int64_t> count = m->getInteger("count");
  if (!count || *count <= 0 || *count > 100000000)
    return fail("\"count\" must be a positive integer");
  ds->count = *count;
  if (auto t = m->getString("task"))
    ds->taskName = t->str();
  if (auto l = m->getString("logits_output"))
    ds->logits = l->str();
  const llvm::json::Array *inputs = m->getArray("inputs");
  if (!inputs || inputs->empty())
    return fail("\"inputs\" must list the model inputs");
  for (const llvm::json::Value &v : *inputs) {
    const llvm::json::Object *o = v.getAsObject();
    auto name = o ? o->getString("name") : std::nullopt;
    auto d = o ? o->getString("dir") : std::nullopt;
    if (!name || !d || !isSafeRelative(*d))
      return fail("each input needs a \"name\" and a relative \"dir\" inside the set");
    ds->inputs.push_back({name->str(), d->str()});
  }
  if (const llvm::json::Array *labels = m->getArray("labels"))
    if (!labels->empty()) {
      const llvm::json::Object *o = labels->front().getAsObject();
      auto d = o ? o->getString("dir") : std::nullopt;
      if (!d || !isSafeRelative(*d))
        return fail("a label needs a relative \"dir\" inside the set");
      ds->labelDir = d->str();
    }
  return ds;
}

bool DataSet::readInputs(size_t i, const std::vector<std::string> &modelInputs,
                         std::vector<npy::Array> &out, std::string &error) const {
  out.clear();
  out.resize(modelInputs.size());
  for (size_t k = 0; k < modelInputs.size(); ++k) {
    const Input *in = nullptr;
    for (const Input &c : inputs)
      if (c.name == modelInputs[k])
        in = &c;
    if (!in) {
      error = root + ": the set has no input '" + modelInputs[k] + "' that the model needs";
      return false;
    }
    error = npy::read(samplePath(root, in->dir, i), &out[k]);
    if (!error.empty())
      return false;
  }
  return true;
}

bool DataSet::readLabel(size_t i, npy::Array &out, std::string &error) const {
  error = npy::read(samplePath(root, labelDir, i), &out);
  return error.empty();
}
