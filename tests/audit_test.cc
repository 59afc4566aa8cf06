// docs/theorems.md is generated; this test keeps it true. Regenerate with
//   build/apps/mqharness audit --out docs/theorems.md
#include "explorer/audit.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace mq::explorer {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(AuditTest, TheoremsDocumentIsUpToDateAndSaysWhatWeExpect) {
  const std::string fresh = generate_audit();
  // Seven claims: each false as stated under the seed's design, each true as repaired.
  EXPECT_EQ(count(fresh, "### As stated\n"), 7u);
  EXPECT_EQ(count(fresh, "**False.**"), 7u);
  EXPECT_EQ(count(fresh, "**Holds** in all"), 7u);
  std::ifstream in(std::string(MQ_SOURCE_DIR) + "/docs/theorems.md", std::ios::binary);
  std::ostringstream file;
  file << in.rdbuf();
  EXPECT_TRUE(fresh == file.str()) << "docs/theorems.md is stale: regenerate it with "
                                      "build/apps/mqharness audit --out docs/theorems.md";
}

}  // namespace
}  // namespace mq::explorer
