// Unit tests for the Storage implementations: FileStorage on a real temporary
// directory (append, sync, read, list, remove, the directory lock, errors) and
// MemStorage's crash and fault model.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "impl/file_storage.h"
#include "impl/mem_storage.h"
#include "temp_dir.h"

namespace mq::impl {
namespace {

std::string temp_dir(const std::string& tag) { return mq::test::fresh_temp_dir("storage_test", tag); }

TEST(FileStorage, AppendSyncReadListRemove) {
  const std::string dir = temp_dir("basic");
  {
    auto s = FileStorage::open(dir);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    FileStorage& fs = **s;
    ASSERT_TRUE(fs.append("b", "hello ").ok());
    ASSERT_TRUE(fs.append("b", "world").ok());
    ASSERT_TRUE(fs.sync("b").ok());
    ASSERT_TRUE(fs.append("a", "x").ok());
    EXPECT_EQ(*fs.read("b"), "hello world");
    EXPECT_EQ(*fs.list(), (std::vector<std::string>{"a", "b"}));  // LOCK is not listed
    ASSERT_TRUE(fs.remove("a").ok());
    EXPECT_EQ(fs.remove("a").code(), Code::kNotFound);
    EXPECT_EQ(fs.read("a").status().code(), Code::kNotFound);
    EXPECT_EQ(fs.sync("nope").code(), Code::kNotFound);
  }
  auto again = FileStorage::open(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->read("b"), "hello world");
  EXPECT_TRUE((*again)->sync("b").ok());  // nothing appended through this object
  std::filesystem::remove_all(dir);
}

TEST(FileStorage, TheDirectoryIsLockedAgainstASecondBroker) {
  const std::string dir = temp_dir("lock");
  auto first = FileStorage::open(dir);
  ASSERT_TRUE(first.ok());
  auto second = FileStorage::open(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("locked"), std::string::npos);
  first = Status(Code::kNotFound, "released");  // closes the first one
  EXPECT_TRUE(FileStorage::open(dir).ok());
  std::filesystem::remove_all(dir);
}

TEST(FileStorage, AnUnusableDirectoryIsAnIoError) {
  EXPECT_EQ(FileStorage::open("/proc/definitely/not/here").status().code(), Code::kIoError);
}

TEST(MemStorage, CrashKeepsSyncedBytesAndOptionallyATornPrefix) {
  MemStorage m;
  ASSERT_TRUE(m.append("f", "abc").ok());
  ASSERT_TRUE(m.sync("f").ok());
  ASSERT_TRUE(m.append("f", "defgh").ok());
  ASSERT_TRUE(m.append("new", "zz").ok());
  m.crash(2);
  EXPECT_EQ(*m.read("f"), "abcde");
  EXPECT_EQ(*m.read("new"), "zz");
  ASSERT_TRUE(m.append("never", "q").ok());
  m.crash();
  EXPECT_EQ(m.read("never").status().code(), Code::kNotFound);
  EXPECT_EQ(m.sync("never").code(), Code::kNotFound);
  EXPECT_EQ(m.remove("never").code(), Code::kNotFound);
  m.set_space_limit(m.used_bytes() + 2);
  EXPECT_EQ(m.append("f", "1234").code(), Code::kIoError);
  EXPECT_EQ(*m.read("f"), "abcde12");  // what fit was written
  m.fail_syncs(1);
  EXPECT_EQ(m.sync("f").code(), Code::kIoError);
  EXPECT_TRUE(m.sync("f").ok());
}

}  // namespace
}  // namespace mq::impl
