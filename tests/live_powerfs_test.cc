// The power-loss file system (mq-powerfs) mounted for real: what survives a drop,
// as documented in live/powerfs_main.cc and docs/live.md.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "live/power_fs.h"
#include "live/process.h"

namespace mq::live {
namespace {

class PowerFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting FUSE needs root; running as uid " << ::geteuid();
    if (::access("/dev/fuse", R_OK | W_OK) != 0)
      GTEST_SKIP() << "/dev/fuse is not usable (fuse3 not installed?)";
    auto dir = TempDir::make("mq-powerfs-test-");
    ASSERT_TRUE(dir.ok()) << dir.status().to_string();
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
    backing_ = dir_->path() + "/backing";
    mnt_ = dir_->path() + "/mnt";
    std::filesystem::create_directories(backing_);
    std::filesystem::create_directories(mnt_);
    auto fs = PowerFs::mount(MQ_POWERFS_BIN, backing_, mnt_, dir_->path() + "/powerfs.log");
    ASSERT_TRUE(fs.ok()) << fs.status().to_string();
    fs_ = std::move(fs).value();
  }
  void TearDown() override {
    if (fs_) {
      EXPECT_TRUE(fs_->unmount().ok());
      fs_.reset();
    }
  }

  std::string path(const std::string& name) const { return mnt_ + "/" + name; }

  // Writes `data` at the end of `name` (created if missing); fsyncs it if asked.
  void append(const std::string& name, const std::string& data, bool fsync) {
    const int fd = ::open(path(name).c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_GE(fd, 0) << name;
    ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    if (fsync) {
      ASSERT_EQ(::fsync(fd), 0);
    }
    ::close(fd);
  }

  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  void drop() { ASSERT_TRUE(fs_->drop().ok()); }

  std::unique_ptr<TempDir> dir_;
  std::string backing_, mnt_;
  std::unique_ptr<PowerFs> fs_;
};

TEST_F(PowerFsTest, WriteWithoutFsyncIsVisibleThenGoneAfterTheDrop) {
  append("log", "hello", /*fsync=*/false);
  EXPECT_EQ(read("log"), "hello");
  EXPECT_EQ(std::filesystem::file_size(path("log")), 5u);
  drop();
  // The file was created (metadata is durable), its data was not synced.
  ASSERT_TRUE(std::filesystem::exists(path("log")));
  EXPECT_EQ(read("log"), "");
  EXPECT_EQ(std::filesystem::file_size(path("log")), 0u);
}

TEST_F(PowerFsTest, WriteWithFsyncStaysAndOnlyTheUnsyncedTailGoes) {
  append("log", "synced;", true);
  append("log", "lost", false);
  EXPECT_EQ(read("log"), "synced;lost");
  drop();
  EXPECT_EQ(read("log"), "synced;");
  auto stats = fs_->stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->find("drops 1"), std::string::npos) << *stats;
}

TEST_F(PowerFsTest, FdatasyncMakesDataDurableToo) {
  const int fd = ::open(path("f").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "abcdef", 6, 0), 6);
  ASSERT_EQ(::fdatasync(fd), 0);
  ASSERT_EQ(::pwrite(fd, "XY", 2, 2), 2);  // an overwrite, not synced
  ::close(fd);
  EXPECT_EQ(read("f"), "abXYef");
  drop();
  EXPECT_EQ(read("f"), "abcdef");
}

TEST_F(PowerFsTest, TruncateAndOTruncAreUndoneUnlessSynced) {
  append("t", "abcdef", true);
  ASSERT_EQ(::truncate(path("t").c_str(), 2), 0);
  EXPECT_EQ(read("t"), "ab");
  drop();
  EXPECT_EQ(read("t"), "abcdef");
  {
    std::ofstream out(path("t"), std::ios::trunc);  // open with O_TRUNC
    out << "new";
  }
  EXPECT_EQ(read("t"), "new");
  drop();
  EXPECT_EQ(read("t"), "abcdef");
}

TEST_F(PowerFsTest, RenameIsDurableAtOnceButTheRenamedDataIsNot) {
  append("manifest.tmp", "v2", false);
  ASSERT_EQ(::rename(path("manifest.tmp").c_str(), path("manifest").c_str()), 0);
  EXPECT_EQ(read("manifest"), "v2");
  drop();
  EXPECT_FALSE(std::filesystem::exists(path("manifest.tmp")));
  ASSERT_TRUE(std::filesystem::exists(path("manifest")));
  EXPECT_EQ(read("manifest"), "");  // the ext4-without-auto_da_alloc outcome: an empty file
}

TEST_F(PowerFsTest, FsyncThenRenameThenDirectoryFsyncKeepsEverything) {
  append("manifest.tmp", "v3", true);
  ASSERT_EQ(::rename(path("manifest.tmp").c_str(), path("manifest").c_str()), 0);
  const int dfd = ::open(mnt_.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dfd, 0);
  EXPECT_EQ(::fsync(dfd), 0);  // accepted; adds nothing (entries are durable already)
  ::close(dfd);
  drop();
  EXPECT_EQ(read("manifest"), "v3");
}

TEST_F(PowerFsTest, UnlinkedFileLeavesNoPendingDataBehind) {
  append("gone", "unsynced", false);
  ASSERT_EQ(::unlink(path("gone").c_str()), 0);
  auto stats = fs_->stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->rfind("files 0 bytes 0", 0), 0u) << *stats;
  append("gone", "x", true);
  drop();
  EXPECT_EQ(read("gone"), "x");
}

TEST_F(PowerFsTest, UnmountRemovesTheMount) {
  append("a", "1", true);
  ASSERT_TRUE(fs_->unmount().ok());
  fs_.reset();
  // The synced data is in the backing directory; the mount point is empty again.
  std::ifstream in(backing_ + "/a");
  std::string content;
  in >> content;
  EXPECT_EQ(content, "1");
  EXPECT_FALSE(std::filesystem::exists(mnt_ + "/a"));
}

}  // namespace
}  // namespace mq::live
