// The software backend's key file and LMK handling, and the asynchronous runner.
#include <gtest/gtest.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "eft/crypto/async_hsm.hpp"
#include "eft/crypto/software_hsm.hpp"

namespace eft::crypto {
namespace {

secure_bytes key(std::string_view h) {
  return secure_from_hex(h).value();
}

class SoftwareHsm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("eft-softhsm-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path file() const { return dir_ / "keys.yaml"; }
  std::string read_file() const {
    std::ifstream in(file());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::filesystem::path dir_;
};

tr31_header zpk_header() {
  tr31_header h;
  h.usage = "P0";
  h.algorithm = 'T';
  h.mode_of_use = 'B';
  return h;
}

const char* lmk_hex = "4C4D4B2D746573742D6B65792D6E6F742D666F722D70726F64756374696F6E21";

TEST_F(SoftwareHsm, KeysSurviveAReopenWithTheSameLmkAndNeverAppearInClear) {
  {
    auto h = software_hsm::open(file(), key(lmk_hex));
    ASSERT_TRUE(h) << h.error().message();
    std::vector<secure_bytes> parts;
    parts.push_back(key("0123456789ABCDEFFEDCBA9876543210"));
    ASSERT_TRUE((*h)->import_components("zpk.acquirer1", zpk_header(), parts, "08D7B4"));
    ASSERT_TRUE((*h)->generate_key("zpk.random", zpk_header(), 16));
  }
  const std::string text = read_file();
  EXPECT_NE(text.find("zpk.acquirer1: D"), std::string::npos) << text;
  EXPECT_EQ(text.find("0123456789ABCDEF"), std::string::npos) << "clear key material in the key file";
  EXPECT_EQ(std::filesystem::status(file()).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);

  auto again = software_hsm::open(file(), key(lmk_hex));
  ASSERT_TRUE(again) << again.error().message();
  auto info = (*again)->describe_key("zpk.acquirer1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kcv, "08D7B4");
  EXPECT_EQ(info->header.usage, "P0");
  EXPECT_EQ((*again)->list_keys()->size(), 2U);
}

TEST_F(SoftwareHsm, WrongLmkRefusesTheWholeKeyFile) {
  {
    auto h = software_hsm::open(file(), key(lmk_hex));
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->generate_key("zpk.a", zpk_header(), 16));
  }
  auto wrong = software_hsm::open(file(), key("00000000000000000000000000000000000000000000000000000000000000FF"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, errc::key_block_mac);
  EXPECT_NE(wrong.error().detail.find("key 'zpk.a'"), std::string::npos) << wrong.error().detail;
  EXPECT_NE(wrong.error().detail.find("wrong LMK?"), std::string::npos) << wrong.error().detail;
}

TEST_F(SoftwareHsm, DuplicateNamesAndBadNamesAreRefused) {
  auto h = software_hsm::open(file(), key(lmk_hex));
  ASSERT_TRUE(h);
  ASSERT_TRUE((*h)->generate_key("zpk.a", zpk_header(), 16));
  EXPECT_EQ((*h)->generate_key("zpk.a", zpk_header(), 16).error().code, errc::bad_input);
  EXPECT_EQ((*h)->generate_key("zpk a", zpk_header(), 16).error().code, errc::bad_input);
  EXPECT_EQ((*h)->generate_key("zpk.b", zpk_header(), 15).error().code, errc::bad_key_length);
}

TEST_F(SoftwareHsm, LmkFromEnvironmentOrFile) {
  ::setenv("EFT_TEST_LMK", lmk_hex, 1);
  auto from_env = load_lmk({"EFT_TEST_LMK", {}});
  ASSERT_TRUE(from_env) << from_env.error().message();
  EXPECT_EQ(from_env->size(), 32U);
  ::unsetenv("EFT_TEST_LMK");

  std::ofstream(dir_ / "lmk.hex") << lmk_hex << "\n";
  auto from_file = load_lmk({"EFT_TEST_LMK", dir_ / "lmk.hex"});
  ASSERT_TRUE(from_file) << from_file.error().message();
  EXPECT_TRUE(equal_ct(from_env->view(), from_file->view()));

  std::ofstream(dir_ / "short.hex") << "0011";
  auto bad = load_lmk({"EFT_TEST_LMK", dir_ / "short.hex"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().detail.find("short.hex"), std::string::npos);
  EXPECT_EQ(bad.error().detail.find("0011"), std::string::npos) << "the LMK value must not be echoed";
  EXPECT_FALSE(load_lmk({"EFT_TEST_LMK", {}}));
}

TEST_F(SoftwareHsm, AsyncRunnerCompletesOnTheCallersExecutor) {
  auto h = software_hsm::open(file(), key(lmk_hex));
  ASSERT_TRUE(h);
  ASSERT_TRUE((*h)->generate_key("zpk.a", zpk_header(), 16));
  for (std::size_t threads : {0U, 2U}) {
    async_hsm runner(*h, threads);
    boost::asio::io_context io;
    const auto io_thread = std::this_thread::get_id();
    int done = 0;
    for (int i = 0; i < 10; ++i) {
      runner.run<key_info>([](hsm& x) { return x.describe_key("zpk.a"); },
                           boost::asio::bind_executor(io, [&](outcome<key_info> r) {
                             EXPECT_TRUE(r);
                             EXPECT_EQ(std::this_thread::get_id(), io_thread);
                             ++done;
                           }));
    }
    EXPECT_EQ(done, 0) << "completions never run inside the call";
    io.run();
    EXPECT_EQ(done, 10);
  }
}

TEST_F(SoftwareHsm, AsyncRunnerAnswersBusyWhenItsQueueIsFull) {
  auto h = software_hsm::open(file(), key(lmk_hex));
  ASSERT_TRUE(h);
  async_hsm runner(*h, 1, 1);
  boost::asio::io_context io;
  std::atomic<bool> release{false};
  int busy = 0;
  int ok_count = 0;
  runner.run<std::monostate>(
      [&](hsm&) -> outcome<std::monostate> {
        while (!release) std::this_thread::yield();
        return std::monostate{};
      },
      boost::asio::bind_executor(io, [&](outcome<std::monostate> r) { ok_count += r ? 1 : 0; }));
  runner.run<std::monostate>([](hsm&) -> outcome<std::monostate> { return std::monostate{}; },
                             boost::asio::bind_executor(io, [&](outcome<std::monostate> r) {
                               if (!r && r.error().code == errc::busy) ++busy;
                             }));
  release = true;
  io.run();
  EXPECT_EQ(busy, 1);
  EXPECT_EQ(ok_count, 1);
}

}  // namespace
}  // namespace eft::crypto
