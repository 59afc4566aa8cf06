// corpus_replay: every committed corpus file of tests/fuzz/<target>/ run through its
// fuzz target, in the default (gcc) build and without libFuzzer (ctest
// fuzz_corpus_replay, label fuzz-corpus). The corpora hold the seeds and every input
// that once crashed a target, so a fixed crash stays fixed. A broken expectation
// aborts with the target's message; the file is named first.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" {
#define MQ_FUZZ_ENTRY(name) int mq_fuzz_##name(const uint8_t* data, size_t size);
MQ_FUZZ_ENTRY(history)
MQ_FUZZ_ENTRY(jepsen)
MQ_FUZZ_ENTRY(check)
MQ_FUZZ_ENTRY(scenario)
MQ_FUZZ_ENTRY(topology)
MQ_FUZZ_ENTRY(explore_config)
MQ_FUZZ_ENTRY(wal)
MQ_FUZZ_ENTRY(resp)
MQ_FUZZ_ENTRY(client)
#undef MQ_FUZZ_ENTRY
}

int main() {
  using Entry = int (*)(const uint8_t*, size_t);
  const std::pair<const char*, Entry> targets[] = {
      {"history", mq_fuzz_history}, {"jepsen", mq_fuzz_jepsen},   {"check", mq_fuzz_check},
      {"scenario", mq_fuzz_scenario}, {"topology", mq_fuzz_topology}, {"explore_config", mq_fuzz_explore_config},
      {"wal", mq_fuzz_wal},         {"resp", mq_fuzz_resp},         {"client", mq_fuzz_client}};
  namespace fs = std::filesystem;
  size_t total = 0;
  for (const auto& [name, entry] : targets) {
    const fs::path dir = fs::path(MQ_FUZZ_CORPUS_DIR) / name;
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(dir)) {
      if (f.is_regular_file()) files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      std::fprintf(stderr, "corpus_replay: %s: no corpus files\n", dir.c_str());
      return 1;
    }
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::fprintf(stderr, "%s\n", file.c_str());
      entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("corpus_replay: %s: %zu files\n", name, files.size());
    total += files.size();
  }
  std::printf("corpus_replay: %zu files, every target held\n", total);
  return 0;
}
