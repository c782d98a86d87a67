/*===- artifact_stamp.c - Finish a hand-built test artifact -----------------===*
 *
 *   artifact_stamp model.so [side-file]
 *
 * Sets weights_size and weights_checksum in the .glm_header section of
 * model.so from its .glm_weights section (the part glmc's packager does when
 * it writes an artifact). With side-file, also writes the weights there, for
 * artifacts whose header says the weights are external. Test-only.
 *===----------------------------------------------------------------------===*/
#include <glmrt/artifact_abi.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, const char *path) {
  fprintf(stderr, "artifact_stamp: %s: %s\n", path, what);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: artifact_stamp model.so [side-file]\n");
    return 2;
  }
  const char *path = argv[1];
  FILE *f = fopen(path, "r+b");
  if (!f) return fail("cannot open", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *bytes = malloc((size_t)size);
  if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size)
    return fail("cannot read", path);
  Elf64_Ehdr eh;
  memcpy(&eh, bytes, sizeof(eh));
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(bytes + eh.e_shoff);
  const char *names = (const char *)bytes + sh[eh.e_shstrndx].sh_offset;
  const Elf64_Shdr *header = NULL, *weights = NULL;
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    if (strcmp(names + sh[i].sh_name, GLM_ABI_HEADER_SECTION) == 0) header = &sh[i];
    if (strcmp(names + sh[i].sh_name, GLM_ABI_WEIGHTS_SECTION) == 0) weights = &sh[i];
  }
  if (!header) return fail("no .glm_header section", path);
  glm_artifact_header_t h;
  memcpy(&h, bytes + header->sh_offset, sizeof(h));
  const unsigned char *w = weights ? bytes + weights->sh_offset : NULL;
  h.weights_size = weights ? weights->sh_size : 0;
  h.weights_checksum = glm_abi_checksum(w, h.weights_size);
  if (fseek(f, (long)header->sh_offset, SEEK_SET) != 0 ||
      fwrite(&h, sizeof(h), 1, f) != 1)
    return fail("cannot write the header", path);
  fclose(f);
  if (argc == 3) {
    FILE *side = fopen(argv[2], "wb");
    if (!side || (h.weights_size && fwrite(w, h.weights_size, 1, side) != 1))
      return fail("cannot write the side file", argv[2]);
    fclose(side);
  }
  free(bytes);
  return 0;
}
