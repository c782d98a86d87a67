//===- HostModel.cpp - a model compiled for this machine, run in-process --===//

#include "compiler/calibrate/HostModel.h"

using namespace glmc::calibrate;

std::unique_ptr<HostModel> HostModel::load(const std::string &path, std::string &error) {
  auto m = std::unique_ptr<HostModel>(new HostModel());
  glmrt::Status st = glmrt::Model::load(path.c_str(), &m->model);
  if (st.ok())
    st = glmrt::Session::create(m->model, &m->session);
  if (!st.ok()) {
    error = path + ": " + st.message();
    return nullptr;
  }
  glmrt::Entry entry = m->model.main();
  for (size_t i = 0; i < entry.input_count(); ++i) {
    glmrt::TensorInfo info;
    (void)entry.input_info(i, &info);
    m->inputs.push_back(info.name ? info.name : "");
  }
  for (size_t i = 0; i < entry.output_count(); ++i) {
    glmrt::TensorInfo info;
    (void)entry.output_info(i, &info);
    m->outputs.push_back(info.name ? info.name : "");
  }
  return m;
}

bool HostModel::run(const std::vector<npy::Array> &in, std::vector<glmrt::Tensor> &out,
                    std::string &error) {
  std::vector<glmrt_tensor_view_t> views;
  for (const npy::Array &a : in)
    views.push_back(glmrt_tensor_view_make(a.dtype, (uint32_t)a.shape.size(), a.shape.data(),
                                           a.data(), a.byte_size));
  glmrt::Status st = session.run(model.main(), views, &out);
  if (!st.ok()) {
    error = st.message();
    return false;
  }
  return true;
}
